using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Executions;

/// <summary>
/// The execution service masks every secret an execution carries (its own secret parameters' values and those its
/// requester handed over) in what it stores, publishes and audits: parameters, output, result, error. The runner alone
/// gets them in clear. On a real SQLite store, with a runner that says what it was given.
/// </summary>
public sealed class ExecutionSecretMaskingTests : IAsyncLifetime
{
    private const string Token = "SuperSecret123";
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TestTimeProvider _time = new();
    private readonly SayingRunner _runner = new();
    private readonly RecordingGuard _guard = new();
    private readonly ExecutionEvents _events = new();
    private ExecutionServiceHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await ExecutionServiceHarness.StartAsync("opsrobot-masking", _time, _runner, new Dictionary<string, string>
    {
        ["say.yaml"] = """
            name: say
            runner_type: saying
            parameters:
              message: {type: string, required: true}
              fail: {type: boolean, default: false}
            """,
        ["login.yaml"] = """
            name: login
            runner_type: saying
            parameters:
              password: {type: string, secret: true, required: true}
              message: {type: string, default: "logging in"}
            """,
    }, _events, new ExecutionOptions { OutputFlushInterval = TimeSpan.FromMilliseconds(10) }, _guard);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private static ExecutionRequester Rule => new() { Door = ExecutionDoor.Rule, UserName = "rule:ops.hook" };

    [Theory]
    [InlineData("it succeeds", false)]
    [InlineData("it fails, saying the secret in its error", true)]
    public async Task Request_WithSecretValuesHandedOver_StoresPublishesAndAuditsThemMasked_TheRunnerGetsThemInClear(string row, bool fail)
    {
        using var live = _events.SubscribeAll();
        var handle = await _harness.Executions.RequestAsync(
            new ExecutionRequest("ops.say", new JsonObject { ["message"] = $"token={Token}", ["fail"] = fail }, Rule) { SecretValues = [Token, "other-secret-value"] }, None);
        using var output = _events.Subscribe(handle.Execution.Id);
        var final = await handle.Outcome.WaitAsync(TimeSpan.FromSeconds(30));

        _runner.Runs.Single()["message"]!.GetValue<string>().ShouldBe($"token={Token}", "the runner gets the value in clear");
        final.Status.ShouldBe(fail ? ExecutionStatus.Failed : ExecutionStatus.Succeeded, row);
        var stored = (await _harness.Store.GetAsync(handle.Execution.Id, None)).ShouldNotBeNull();
        stored.Parameters["message"]!.GetValue<string>().ShouldBe("token=********", row);
        stored.SecretsMasked.ShouldBeTrue("the stored parameters are not what it ran with");
        stored.Result!.ToJsonString().ShouldBe("""{"said":"token=********"}""", row);
        if (fail)
        {
            stored.Error.ShouldBe("It could not say token=********.");
        }

        var text = string.Concat((await _harness.Store.ReadOutputAsync(stored.Id, 0, 100, None)).Select(c => c.Text));
        text.ShouldBe("saying: token=********\n", row);
        _guard.Seen.ShouldNotBeEmpty();
        _guard.Seen.ShouldAllBe(r => !r.Contains(Token), "the audit is written from the masked record");
        Published(live).Concat(Published(output)).ShouldAllBe(e => !e.Contains(Token), "nothing published carries it");
    }

    [Fact]
    public async Task Request_ActionSaysItsOwnSecretParameter_OutputResultAndErrorAreMasked()
    {
        var handle = await _harness.Executions.RequestAsync(
            new ExecutionRequest("ops.login", new JsonObject { ["password"] = "hunter2-pw", ["message"] = "pw is hunter2-pw" },
                new ExecutionRequester { Door = ExecutionDoor.Api, UserName = "alice" }), None);
        var final = await handle.Outcome.WaitAsync(TimeSpan.FromSeconds(30));

        final.Status.ShouldBe(ExecutionStatus.Succeeded);
        _runner.Runs.Single()["password"]!.GetValue<string>().ShouldBe("hunter2-pw");
        var stored = (await _harness.Store.GetAsync(handle.Execution.Id, None)).ShouldNotBeNull();
        stored.Parameters.ToJsonString().ShouldBe("""{"password":"********","message":"pw is ********"}""");
        stored.Result!.ToJsonString().ShouldNotContain("hunter2-pw");
        string.Concat((await _harness.Store.ReadOutputAsync(stored.Id, 0, 100, None)).Select(c => c.Text)).ShouldBe("saying: pw is ********\n");
        stored.SecretsMasked.ShouldBeTrue();
    }

    [Fact]
    public async Task Request_AParameterHoldingAHandedOverSecretDoesNotFit_TheRefusalQuotesItMasked()
    {
        var refused = await Should.ThrowAsync<ExecutionRequestException>(() => _harness.Executions.RequestAsync(
            new ExecutionRequest("ops.say", new JsonObject { ["message"] = "m", ["fail"] = $"token={Token}" }, Rule) { SecretValues = [Token] }, None));

        refused.Message.ShouldBe("Parameter 'fail' of ops.say must be true or false; got 'token=********'.");
        refused.InnerException.ShouldBeNull("the unmasked sentence is not kept as the cause");
        _runner.Runs.ShouldBeEmpty();
    }

    [Fact]
    public async Task Request_WithoutSecrets_StoresParametersAsGivenAndIsNotMarked()
    {
        var handle = await _harness.Executions.RequestAsync(new ExecutionRequest("ops.say", new JsonObject { ["message"] = "hello there" }, Rule), None);
        await handle.Outcome.WaitAsync(TimeSpan.FromSeconds(30));

        var stored = (await _harness.Store.GetAsync(handle.Execution.Id, None)).ShouldNotBeNull();
        stored.Parameters["message"]!.GetValue<string>().ShouldBe("hello there");
        stored.SecretsMasked.ShouldBeFalse("it can be run again from its stored parameters after a crash");
    }

    private static List<string> Published(ExecutionEvents.Subscription subscription)
    {
        var seen = new List<string>();
        while (subscription.Events.TryRead(out var e))
        {
            seen.Add(e switch
            {
                ExecutionOutputEvent o => o.Chunk.Text,
                ExecutionStatusEvent s => $"{s.Execution.Parameters.ToJsonString()} {s.Execution.Result?.ToJsonString()} {s.Execution.Error}",
                _ => e.ToString()!,
            });
        }

        return seen;
    }

    /// <summary>Says its message in two pieces (split inside it), and gives it back as its result; fails on request.</summary>
    private sealed class SayingRunner : IRunner
    {
        public ConcurrentQueue<IReadOnlyDictionary<string, JsonNode?>> Runs { get; } = new();

        public IReadOnlyList<string> Names { get; } = ["saying"];

        public IEnumerable<string> Validate(ActionDefinition action) => [];

        public Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
        {
            Runs.Enqueue(context.Parameters);
            var message = context.Parameters["message"]!.GetValue<string>();
            var half = message.Length / 2;
            context.Output.Write(OutputKind.Stdout, "saying: " + message[..half]);
            context.Output.Write(OutputKind.Stdout, message[half..] + "\n");
            var result = new JsonObject { ["said"] = message };
            return Task.FromResult(context.Parameters.TryGetValue("fail", out var fail) && fail!.GetValue<bool>()
                ? new RunnerResult(RunnerOutcome.Failed, result, 1, $"It could not say {message}.")
                : new RunnerResult(RunnerOutcome.Succeeded, result, 0, null));
        }
    }

    /// <summary>The audit's view of the execution service: every record it is handed, as text.</summary>
    private sealed class RecordingGuard : IExecutionGuard
    {
        public ConcurrentQueue<string> Seen { get; } = new();

        public ValueTask<string?> RecheckAsync(ExecutionRecord execution, ActionDefinition action, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(null);

        public ValueTask StartedAsync(ExecutionRecord execution, CancellationToken cancellationToken)
        {
            Seen.Enqueue(Describe(execution));
            return ValueTask.CompletedTask;
        }

        public ValueTask FinishedAsync(ExecutionRecord execution, CancellationToken cancellationToken)
        {
            Seen.Enqueue(Describe(execution));
            return ValueTask.CompletedTask;
        }

        private static string Describe(ExecutionRecord e) => $"{e.Parameters.ToJsonString()} {e.Result?.ToJsonString()} {e.Error}";
    }
}
