using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Runners.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Runners.Tests.Shell;

public sealed class ShellRunnerTests
{
    [Fact]
    public void Names_AreOursThenStackStorms()
    {
        TestRunners.Shell().Names.ShouldBe(["shell", "local-shell-cmd"]);
    }

    [Fact]
    public async Task RunAsync_ZeroExit_SucceedsWithStackStormResultShape()
    {
        var result = await TestRunners.RunShellAsync("echo hello; echo warn >&2");

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        result.ExitCode.ShouldBe(0);
        result.Error.ShouldBeNull();
        var obj = result.Result.ShouldBeOfType<JsonObject>();
        obj.Select(p => p.Key).Order(StringComparer.Ordinal).ShouldBe(["failed", "return_code", "stderr", "stdout", "succeeded"]);
        obj["stdout"]!.GetValue<string>().ShouldBe("hello");
        obj["stderr"]!.GetValue<string>().ShouldBe("warn");
        obj["return_code"]!.GetValue<int>().ShouldBe(0);
        obj["succeeded"]!.GetValue<bool>().ShouldBeTrue();
        obj["failed"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task RunAsync_NonZeroExit_FailsWithReturnCode()
    {
        var result = await TestRunners.RunShellAsync("echo partial; exit 3");

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.ExitCode.ShouldBe(3);
        result.Error.ShouldNotBeNull().ShouldContain("3");
        result.Result!["return_code"]!.GetValue<int>().ShouldBe(3);
        result.Result["succeeded"]!.GetValue<bool>().ShouldBeFalse();
        result.Result["failed"]!.GetValue<bool>().ShouldBeTrue();
        result.Text("stdout").ShouldBe("partial");
    }

    [Theory]
    [InlineData("object", "{\"a\":1,\"b\":[true]}")]
    [InlineData("array", "[1, 2, 3]")]
    [InlineData("object with trailing newline", "{\"a\":1}\n")]
    public async Task RunAsync_StdoutIsJsonObjectOrArray_ResultHoldsParsedJson(string label, string printed)
    {
        var result = await TestRunners.RunShellAsync("printf '%s' {{ out }}", new() { ["out"] = printed });

        var stdout = result.Result!["stdout"];
        (stdout is JsonObject || stdout is JsonArray).ShouldBeTrue(label);
        JsonNode.DeepEquals(stdout, JsonNode.Parse(printed)).ShouldBeTrue(label);
    }

    [Theory]
    [InlineData("plain text", "hello world")]
    [InlineData("number stays text", "42")]
    [InlineData("version stays text", "1.10")]
    [InlineData("boolean stays text", "true")]
    [InlineData("broken json", "{\"a\":")]
    public async Task RunAsync_StdoutIsNotJsonObjectOrArray_ResultHoldsString(string label, string printed)
    {
        var result = await TestRunners.RunShellAsync("printf '%s' {{ out }}", new() { ["out"] = printed });

        result.Result!["stdout"]!.GetValue<string>().ShouldBe(printed, label);
    }

    [Fact]
    public async Task RunAsync_TrailingNewlines_OnlyLastNewlineIsStripped()
    {
        var result = await TestRunners.RunShellAsync("printf 'a\\n\\n'");

        result.Text("stdout").ShouldBe("a\n");
    }

    [Theory]
    [InlineData("integer", "5", "5")]
    [InlineData("boolean", "true", "true")]
    [InlineData("array", "[\"a\",\"b c\"]", "[\"a\",\"b c\"]")]
    [InlineData("object", "{ \"k\" : \"v\" }", "{\"k\":\"v\"}")]
    [InlineData("string with spaces", "\"two words\"", "two words")]
    public async Task RunAsync_TypedParameter_ExportedAsStringOrCompactJson(string label, string json, string expected)
    {
        var result = await TestRunners.RunShellAsync("printf '%s' \"$OPSROBOT_PARAM_MY_PARAM\"", new() { ["my-param"] = JsonNode.Parse(json) });

        result.Text("stdout").ShouldBe(expected, label);
    }

    [Fact]
    public async Task RunAsync_ParametersBuiltFromClrValues_ExportedLikeParsedJson()
    {
        var id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

        var result = await TestRunners.RunShellAsync(
            "printf '%s|%s|%s' \"$OPSROBOT_PARAM_ID\" \"$OPSROBOT_PARAM_N\" \"$OPSROBOT_PARAM_RATIO\"",
            new() { ["id"] = JsonValue.Create(id), ["n"] = JsonValue.Create(7), ["ratio"] = JsonValue.Create(0.5m), ["timeout"] = JsonValue.Create(30) });

        result.Text("stdout").ShouldBe("0f8fad5b-d9cb-469f-a165-70867728950e|7|0.5");
    }

    [Fact]
    public async Task RunAsync_NullParameter_IsNotExported()
    {
        var result = await TestRunners.RunShellAsync("printf '%s' \"${OPSROBOT_PARAM_GONE-unset}\"", new() { ["gone"] = null });

        result.Text("stdout").ShouldBe("unset");
    }

    [Fact]
    public async Task RunAsync_OpsRobotOwnEnvironment_DoesNotReachTheProcess()
    {
        Environment.SetEnvironmentVariable("OPSROBOT__ADMIN__PASSWORD", "hunter2-secret");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "aws-secret");

        var result = await TestRunners.RunShellAsync("env", new() { ["p"] = "v", ["env"] = new JsonObject { ["EXTRA"] = "1" } });

        var stdout = result.Text("stdout")!;
        stdout.ShouldNotContain("hunter2-secret");
        stdout.ShouldNotContain("aws-secret");
        var names = stdout.Split('\n').Select(l => l.Split('=')[0]).ToHashSet(StringComparer.Ordinal);
        var allowed = new HashSet<string>(StringComparer.Ordinal) { "PATH", "HOME", "LANG", "USER", "PWD", "SHLVL", "_", "EXTRA" };
        names.Where(n => !allowed.Contains(n) && !n.StartsWith("OPSROBOT_", StringComparison.Ordinal)).ShouldBeEmpty();
        stdout.ShouldContain("OPSROBOT_EXECUTION_ID=exec-1");
        stdout.ShouldContain("OPSROBOT_ACTION_REF=tests.shell_action");
        stdout.ShouldContain("OPSROBOT_PARAM_P=v");
        stdout.ShouldContain("PATH=");
    }

    [Fact]
    public async Task RunAsync_RunnerParameters_AreNotExported()
    {
        var result = await TestRunners.RunShellAsync("env", new() { ["cwd"] = "/tmp", ["env"] = new JsonObject { ["X"] = "1" } });

        result.Text("stdout")!.ShouldNotContain("OPSROBOT_PARAM_CMD");
        result.Text("stdout")!.ShouldNotContain("OPSROBOT_PARAM_CWD");
        result.Text("stdout")!.ShouldNotContain("OPSROBOT_PARAM_ENV");
    }

    [Fact]
    public async Task RunAsync_SudoTrue_RefusedWithoutRunning()
    {
        var result = await TestRunners.RunShellAsync("true", new() { ["sudo"] = true });

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("'sudo'");
    }

    [Fact]
    public async Task RunAsync_ActionEnv_IsSetButCannotForgeOpsRobotVariables()
    {
        var env = new JsonObject { ["GREETING"] = "hi", ["COUNT"] = 3, ["OPSROBOT_EXECUTION_ID"] = "forged" };

        var result = await TestRunners.RunShellAsync("printf '%s|%s|%s' \"$GREETING\" \"$COUNT\" \"$OPSROBOT_EXECUTION_ID\"", new() { ["env"] = env });

        result.Text("stdout").ShouldBe("hi|3|exec-1");
    }

    [Fact]
    public async Task RunAsync_EnvIsNotAnObject_FailsClearly()
    {
        var result = await TestRunners.RunShellAsync("true", new() { ["env"] = "A=1" });

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("'env'");
    }

    [Fact]
    public async Task RunAsync_Cwd_RunsThere()
    {
        using var dir = new TempDirectory();

        var result = await TestRunners.RunShellAsync("pwd", new() { ["cwd"] = dir.Path });

        result.Text("stdout").ShouldBe(dir.Path);
    }

    [Fact]
    public async Task RunAsync_MissingCwd_FailsWithoutRunning()
    {
        var result = await TestRunners.RunShellAsync("true", new() { ["cwd"] = "/no/such/folder" });

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("does not exist");
    }

    [Fact]
    public async Task RunAsync_StdinIsClosed_ReadersGetEndOfFileAtOnce()
    {
        var result = await TestRunners.RunShellAsync("cat; read -r line; echo \"rc=$?\"").WaitAsync(TimeSpan.FromSeconds(10));

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        result.Text("stdout").ShouldBe("rc=1");
    }

    [Fact]
    public async Task RunAsync_OutputWithoutNewline_IsStreamedBeforeTheProcessExits()
    {
        using var dir = new TempDirectory();
        var flag = dir.Combine("go");
        var output = new RecordingOutput();
        var cmd = "printf 'ready'; for i in $(seq 500); do [ -e {{ flag }} ] && break; sleep 0.02; done; printf ' done'";

        var run = TestRunners.RunShellAsync(cmd, new() { ["flag"] = flag }, output);
        await output.WaitForStdoutAsync("ready").WaitAsync(TimeSpan.FromSeconds(10));
        var finishedEarly = run.IsCompleted;
        await File.WriteAllTextAsync(flag, "");
        var result = await run.WaitAsync(TimeSpan.FromSeconds(10));

        finishedEarly.ShouldBeFalse();
        result.Text("stdout").ShouldBe("ready done");
    }

    [Fact]
    public async Task RunAsync_StdoutAndStderr_StreamedWithTheirKinds()
    {
        var output = new RecordingOutput();

        await TestRunners.RunShellAsync("echo out; echo err >&2", output: output);

        output.Stdout.ShouldBe("out\n");
        output.Stderr.ShouldBe("err\n");
        output.Chunks.ShouldContain(c => c.Kind == OutputKind.Stderr && c.Text.Contains("err"));
    }

    [Fact]
    public async Task RunAsync_MultibyteCharacterSplitAcrossWrites_DecodedWhole()
    {
        var output = new RecordingOutput();

        var result = await TestRunners.RunShellAsync("printf '\\xe2\\x82'; sleep 0.2; printf '\\xac \\xf0\\x9f'; sleep 0.2; printf '\\x98\\x80'", output: output);

        result.Text("stdout").ShouldBe("€ 😀");
        output.Stdout.ShouldBe("€ 😀");
        output.Stdout.ShouldNotContain('\uFFFD');
    }

    [Fact]
    public async Task RunAsync_InvalidUtf8_ReplacedNotThrown()
    {
        var result = await TestRunners.RunShellAsync("printf 'a\\xffb'");

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        result.Text("stdout").ShouldBe("a\uFFFDb");
    }

    [Fact]
    public async Task RunAsync_FiftyMegabytesOfOutput_StreamsAllKeepsBoundedResult()
    {
        const int Size = 50 * 1024 * 1024;
        var options = TestRunners.FastOptions();
        options.ResultOutputLimit = 1024 * 1024;
        var output = new RecordingOutput(keep: false);
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var result = await TestRunners.RunShellAsync($"head -c {Size} /dev/zero | tr '\\0' a; echo tail >&2", output: output, options: options)
            .WaitAsync(TimeSpan.FromSeconds(60));
        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        output.StdoutChars.ShouldBe(Size);
        var stdout = result.Text("stdout")!;
        stdout.Length.ShouldBeLessThan(options.ResultOutputLimit + 200);
        stdout.ShouldStartWith("aaaa");
        stdout.ShouldContain($"{Size - options.ResultOutputLimit} more characters");
        result.Text("stderr").ShouldBe("tail");

        // The result holds ~1 M chars (2 MB); the 100 MB the output would take as UTF-16 must not be retained.
        retained.ShouldBeLessThan(20L * 1024 * 1024);
        GC.KeepAlive(result);
    }

    [Fact]
    public async Task RunAsync_ProcessLeadsItsOwnSessionAndGroup()
    {
        var output = new RecordingOutput();
        using var cts = new CancellationTokenSource();

        var run = TestRunners.RunShellAsync("echo \"pid=$$\"; sleep 30", output: output, cancellationToken: cts.Token);
        await output.WaitForStdoutAsync("pid=").WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(50);
        var pid = Procs.Pids(output.Stdout, "pid").Single();
        var stat = Procs.Stat(pid);
        await cts.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        stat.ShouldNotBeNull();
        stat.Value.Group.ShouldBe(pid);
        stat.Value.Session.ShouldBe(pid);
        Procs.Stat(Environment.ProcessId)!.Value.Session.ShouldNotBe(pid);
    }

    [Fact]
    public async Task RunAsync_CanceledWithGrandchildrenIgnoringTerm_WholeTreeKilledPromptly()
    {
        var output = new RecordingOutput();
        using var cts = new CancellationTokenSource();
        const string Cmd = """
            trap '' TERM
            echo "leader=$$"
            ( trap '' TERM; sleep 1000 ) &
            sleep 1000 &
            bash -c 'trap "" TERM; sleep 1000 & sleep 1000' &
            bash -c 'set -m; sleep 1000 & wait' &
            sleep 0.3
            echo ready
            wait
            """;

        var run = TestRunners.RunShellAsync(Cmd, output: output, cancellationToken: cts.Token);
        await output.WaitForStdoutAsync("ready").WaitAsync(TimeSpan.FromSeconds(10));
        var leader = Procs.Pids(output.Stdout, "leader").Single();
        var tree = Procs.LiveInSession(leader);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await cts.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(10));
        stopwatch.Stop();

        result.Outcome.ShouldBe(RunnerOutcome.Canceled);
        result.Error.ShouldNotBeNull();
        tree.Count.ShouldBeGreaterThanOrEqualTo(8);
        tree.Where(Procs.IsRunning).ShouldBeEmpty();
        Procs.LiveInSession(leader).ShouldBeEmpty();
        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(4));
        result.Text("stdout").ShouldNotBeNull().ShouldContain("ready");
    }

    [Fact]
    public async Task RunAsync_BurstOfCancels_EveryTreeStopped_JobControlGroupsAndStoppedProcessesToo()
    {
        // Runs canceled together share their scans of /proc; each must still stop all of its tree: a child that moved to
        // a group of its own (job control) and one that is stopped (SIGSTOP: it hears SIGTERM only after SIGCONT).
        const int Runs = 12;
        const string Cmd = """
            echo "leader=$$"
            bash -c 'set -m; sleep 1000 & wait' &
            sleep 1000 &
            kill -STOP $!
            sleep 0.3
            echo ready
            wait
            """;
        using var cts = new CancellationTokenSource();
        var outputs = Enumerable.Range(0, Runs).Select(_ => new RecordingOutput()).ToList();
        var runs = outputs.Select(o => TestRunners.RunShellAsync(Cmd, output: o, cancellationToken: cts.Token)).ToList();
        await Task.WhenAll(outputs.Select(o => o.WaitForStdoutAsync("ready"))).WaitAsync(TimeSpan.FromSeconds(60));
        var leaders = outputs.Select(o => Procs.Pids(o.Stdout, "leader").Single()).ToList();
        var trees = leaders.Select(Procs.LiveInSession).ToList();

        await cts.CancelAsync();
        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(60));

        results.ShouldAllBe(r => r.Outcome == RunnerOutcome.Canceled);
        trees.ShouldAllBe(t => t.Count >= 4);
        trees.SelectMany(t => t).Where(Procs.IsRunning).ShouldBeEmpty();
        leaders.SelectMany(Procs.LiveInSession).ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_Timeout_CancelsLikeACancel()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();

        var result = await TestRunners.RunShellAsync("sleep 30", cancellationToken: cts.Token).WaitAsync(TimeSpan.FromSeconds(10));

        result.Outcome.ShouldBe(RunnerOutcome.Canceled);
        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task RunAsync_TimeoutParameterElapses_TreeStoppedAndRunFails()
    {
        var output = new RecordingOutput();
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();

        var result = await TestRunners.RunShellAsync("sleep 1000 & echo \"bg=$!\"; sleep 1000", new() { ["timeout"] = 0.3 }, output).WaitAsync(TimeSpan.FromSeconds(10));

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("Timed out after 0.3 s");
        result.Result!["error"].ShouldNotBeNull();
        result.Result["succeeded"]!.GetValue<bool>().ShouldBeFalse();
        Procs.IsRunning(Procs.Pids(output.Stdout, "bg").Single()).ShouldBeFalse();
        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(4));
    }

    [Theory]
    [InlineData("zero", 0)]
    [InlineData("negative", -5)]
    public async Task RunAsync_BadTimeoutParameter_FailsWithoutRunning(string label, double timeout)
    {
        var result = await TestRunners.RunShellAsync("true", new() { ["timeout"] = timeout });

        result.Outcome.ShouldBe(RunnerOutcome.Failed, label);
        result.Error.ShouldNotBeNull(label).ShouldContain("'timeout'");
    }

    [Fact]
    public async Task RunAsync_CanceledBeforeStart_RunsNothing()
    {
        using var dir = new TempDirectory();
        var marker = dir.Combine("ran");

        var result = await TestRunners.RunShellAsync("touch {{ m }}", new() { ["m"] = marker }, cancellationToken: new CancellationToken(canceled: true));

        result.Outcome.ShouldBe(RunnerOutcome.Canceled);
        File.Exists(marker).ShouldBeFalse();
    }

    [Fact]
    public async Task RunAsync_BackgroundProcessLeftRunning_IsStoppedAndRunEnds()
    {
        var result = await TestRunners.RunShellAsync("sleep 1000 & echo \"bg=$!\"; echo started").WaitAsync(TimeSpan.FromSeconds(10));

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        var stdout = result.Text("stdout")!;
        stdout.ShouldEndWith("started");
        Procs.IsRunning(Procs.Pids(stdout, "bg").Single()).ShouldBeFalse();
    }

    [Fact]
    public async Task RunAsync_ProcessEscapesSessionHoldingPipes_RunStillEnds()
    {
        var result = await TestRunners.RunShellAsync("setsid sleep 1000 & echo \"escaped=$!\"; sleep 0.2").WaitAsync(TimeSpan.FromSeconds(10));

        try
        {
            result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
            result.Text("stdout").ShouldStartWith("escaped=");
        }
        finally
        {
            // The escaped sleep is outside any session the runner owns, by design; the test that started it ends it.
            foreach (var pid in Procs.Pids(result.Text("stdout") ?? "", "escaped"))
            {
                try
                {
                    using var escaped = System.Diagnostics.Process.GetProcessById(pid);
                    escaped.Kill();
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
                {
                    // Already gone.
                }
            }
        }
    }

    [Fact]
    public async Task RunAsync_TemplateError_FailsWithoutRunning()
    {
        var result = await TestRunners.RunShellAsync("echo {% bogus %}");

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("template");
    }

    [Fact]
    public async Task RunAsync_MissingCmd_FailsClearly()
    {
        var action = TestRunners.ShellAction();

        var result = await TestRunners.Shell().RunAsync(TestRunners.Context(action, []), CancellationToken.None);

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("'cmd'");
    }

    [Fact]
    public async Task RunAsync_SetsidMissing_FailsClearly()
    {
        var options = TestRunners.FastOptions();
        options.SetsidPath = "/nonexistent/setsid";

        var result = await TestRunners.RunShellAsync("true", options: options);

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("setsid");
    }

    [Fact]
    public async Task RunAsync_OutputSinkThrows_ProcessStillFinishesAndResultKeepsOutput()
    {
        var action = TestRunners.ShellAction();
        var context = TestRunners.Context(action, new() { ["cmd"] = "head -c 300000 /dev/zero | tr '\\0' b; echo; echo end" }, new ThrowingOutput());

        var result = await TestRunners.Shell().RunAsync(context, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        result.Text("stdout").ShouldEndWith("end");
    }

    [Theory]
    [InlineData("no cmd parameter", null, "needs a 'cmd' parameter")]
    [InlineData("cmd template does not parse", "echo {% oops", "does not parse")]
    public void Validate_BadAction_ReportsProblem(string label, string? cmdDefault, string expected)
    {
        var action = cmdDefault is null
            ? new ActionDefinition("tests", "a", "shell")
            : new ActionDefinition("tests", "a", "shell") { Parameters = [new ParameterDefinition("cmd", ParameterType.String) { Default = cmdDefault }] };

        var problems = TestRunners.Shell().Validate(action).ToList();

        problems.ShouldHaveSingleItem(label).ShouldContain(expected);
    }

    [Fact]
    public void Validate_GoodAction_NoProblems()
    {
        var action = new ActionDefinition("tests", "a", "shell") { Parameters = [new ParameterDefinition("cmd", ParameterType.String) { Default = "echo {{ x }}" }] };

        TestRunners.Shell().Validate(action).ShouldBeEmpty();
    }

    private sealed class ThrowingOutput : IRunnerOutput
    {
        public void Write(OutputKind kind, string text) => throw new InvalidOperationException("sink is down");
    }
}

public sealed class ShellRunnerValidationTests
{
    [Theory]
    [InlineData("env as a string", "env", OpsRobot.Core.Actions.ParameterType.String, "must be object")]
    [InlineData("cwd as a number", "cwd", OpsRobot.Core.Actions.ParameterType.Integer, "must be string")]
    [InlineData("timeout as text", "timeout", OpsRobot.Core.Actions.ParameterType.String, "must be integer or number")]
    public void Validate_RunnerParameterWithTheWrongType_IsRefusedAtLoad(string row, string name, OpsRobot.Core.Actions.ParameterType type, string expected)
    {
        var action = new OpsRobot.Core.Actions.ActionDefinition("p", "a", "shell")
        {
            Parameters =
            [
                new OpsRobot.Core.Actions.ParameterDefinition("cmd", OpsRobot.Core.Actions.ParameterType.String) { Default = "true", Immutable = true },
                new OpsRobot.Core.Actions.ParameterDefinition(name, type),
            ],
        };

        var problems = Support.TestRunners.Shell().Validate(action).ToList();

        problems.ShouldHaveSingleItem(row).ShouldContain(expected, Case.Sensitive, row);
        problems[0].ShouldContain("give your parameter another name", Case.Sensitive, row);
    }
}
