using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Templates;
using OpsRobot.Runners.Echo;
using OpsRobot.Runners.Noop;
using OpsRobot.Runners.Tests.Support;

namespace OpsRobot.Runners.Tests;

public sealed class RegistrationTests
{
    [Fact]
    public void AddOpsRobotRunners_CalledTwice_RegistersEachRunnerOnce()
    {
        using var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<ITemplateRenderer>(TestRunners.Renderer)
            .AddOpsRobotRunners()
            .AddOpsRobotRunners()
            .BuildServiceProvider();

        var names = services.GetServices<IRunner>().SelectMany(r => r.Names).ToList();

        names.ShouldBe(["shell", "local-shell-cmd", "script", "local-shell-script", "http", "http-request", "noop", "echo"], ignoreOrder: true);
    }

    [Fact]
    public void AddOpsRobotRunners_Alone_ResolvesEveryRunnerWithTheCoreTemplateRenderer()
    {
        using var services = new ServiceCollection().AddLogging().AddOpsRobotRunners().BuildServiceProvider();

        services.GetServices<IRunner>().Count().ShouldBe(5);
        services.GetRequiredService<ITemplateRenderer>().ShouldBeOfType<TemplateRenderer>();
    }

    [Fact]
    public void AddOpsRobotRunners_RunnerTypeNames_AreUnique()
    {
        using var services = new ServiceCollection().AddLogging().AddSingleton<ITemplateRenderer>(TestRunners.Renderer).AddOpsRobotRunners().BuildServiceProvider();

        var names = services.GetServices<IRunner>().SelectMany(r => r.Names).ToList();

        names.Distinct(StringComparer.Ordinal).Count().ShouldBe(names.Count);
    }
}

public sealed class NoopRunnerTests
{
    [Fact]
    public async Task RunAsync_AnyParameters_SucceedsAtOnceWithStackStormStaticResult()
    {
        var runner = new NoopRunner();
        var action = new ActionDefinition("tests", "noop", "noop");

        var result = await runner.RunAsync(TestRunners.Context(action, new() { ["x"] = "$(rm -rf /)" }), CancellationToken.None);

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        JsonNode.DeepEquals(result.Result, new JsonObject { ["failed"] = false, ["succeeded"] = true, ["return_code"] = 0 }).ShouldBeTrue();
        runner.Names.ShouldBe(["noop"]);
        runner.Validate(action).ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_AlreadyCanceled_ReturnsCanceled()
    {
        var result = await new NoopRunner().RunAsync(TestRunners.Context(new ActionDefinition("tests", "noop", "noop"), []), new CancellationToken(canceled: true));

        result.Outcome.ShouldBe(RunnerOutcome.Canceled);
    }
}

public sealed class EchoRunnerTests
{
    private static readonly ActionDefinition Action = new("tests", "echo", "echo") { Parameters = [new ParameterDefinition("message", ParameterType.String)] };

    [Theory]
    [InlineData("plain", "hello world")]
    [InlineData("shell metacharacters untouched", "$(whoami) `id` \"quoted\" 'single' *")]
    [InlineData("json-looking text stays text", "{\"a\":1}")]
    [InlineData("multi-line", "line 1\nline 2")]
    public async Task RunAsync_Message_WrittenToStdoutAndReturnedAsCoreEchoWould(string label, string message)
    {
        var output = new RecordingOutput();

        var result = await new EchoRunner().RunAsync(TestRunners.Context(Action, new() { ["message"] = message }, output), CancellationToken.None);

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded, label);
        output.Stdout.ShouldBe(message + "\n", label);
        result.Result!["stdout"]!.GetValue<string>().ShouldBe(message, label);
        result.Result["stderr"]!.GetValue<string>().ShouldBe("", label);
        result.Result["return_code"]!.GetValue<int>().ShouldBe(0, label);
        result.Result["succeeded"]!.GetValue<bool>().ShouldBeTrue(label);
    }

    [Fact]
    public async Task RunAsync_NoMessage_EchoesEmptyLine()
    {
        var output = new RecordingOutput();

        var result = await new EchoRunner().RunAsync(TestRunners.Context(Action, [], output), CancellationToken.None);

        result.Result!["stdout"]!.GetValue<string>().ShouldBe("");
        output.Stdout.ShouldBe("\n");
    }

    [Fact]
    public void Validate_NoMessageParameter_ReportsProblem()
    {
        new EchoRunner().Validate(new ActionDefinition("tests", "echo", "echo")).ShouldHaveSingleItem().ShouldContain("'message'");
    }
}

public sealed class SecretLoggingTests
{
    [Fact]
    public async Task Runners_WithSecretParameters_NeverLogTheirValues()
    {
        const string Secret = "s3cr3t-value-7f1d";
        var logs = new RecordingLoggerProvider();
        await using var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace))
            .AddSingleton<ITemplateRenderer>(TestRunners.Renderer)
            .AddOpsRobotRunners()
            .BuildServiceProvider();
        var runners = services.GetServices<IRunner>().ToDictionary(r => r.Names[0], StringComparer.Ordinal);
        var shellAction = TestRunners.ShellAction(new ParameterDefinition("password", ParameterType.String) { Secret = true });
        var httpAction = new ActionDefinition("tests", "http_action", "http");

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await runners["shell"].RunAsync(TestRunners.Context(shellAction, new() { ["cmd"] = "echo {{ password }}; sleep 10", ["password"] = Secret }), cts.Token);
        await runners["shell"].RunAsync(TestRunners.Context(shellAction, new() { ["cmd"] = "exit 1", ["password"] = Secret }), CancellationToken.None);
        await runners["http"].RunAsync(TestRunners.Context(httpAction, new() { ["url"] = $"http://127.0.0.1:1/hook/{Secret}?token={Secret}", ["password"] = Secret, ["username"] = "u" }), CancellationToken.None);

        logs.Lines.ShouldNotBeEmpty();
        logs.Lines.ShouldAllBe(line => !line.Contains(Secret));
    }
}
