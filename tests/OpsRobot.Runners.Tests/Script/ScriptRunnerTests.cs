using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Runners.Script;
using OpsRobot.Runners.Tests.Support;

namespace OpsRobot.Runners.Tests.Script;

public sealed class ScriptRunnerTests : IDisposable
{
    private const string PrintArgs = """
        #!/bin/bash
        for a in "$@"; do printf '<%s>\n' "$a"; done
        """;

    private const UnixFileMode NotExecutable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly TestPack _pack = new();

    public void Dispose() => _pack.Dispose();

    [Fact]
    public void Names_AreOursThenStackStorms()
    {
        TestRunners.Script().Names.ShouldBe(["script", "local-shell-script"]);
    }

    [Fact]
    public async Task RunAsync_MixedParameters_NamedArgumentsFirstThenPositionalInOrder()
    {
        _pack.Script("args.sh", PrintArgs);
        var action = _pack.Action(
            "args.sh",
            new ParameterDefinition("name", ParameterType.String),
            new ParameterDefinition("second", ParameterType.String) { Position = 1 },
            new ParameterDefinition("force", ParameterType.Boolean),
            new ParameterDefinition("dry_run", ParameterType.Boolean),
            new ParameterDefinition("tags", ParameterType.Array),
            new ParameterDefinition("opts", ParameterType.Object),
            new ParameterDefinition("empty", ParameterType.String),
            new ParameterDefinition("absent", ParameterType.String),
            new ParameterDefinition("count", ParameterType.Integer),
            new ParameterDefinition("first", ParameterType.String) { Position = 0 },
            new ParameterDefinition("flag", ParameterType.Boolean) { Position = 2 },
            new ParameterDefinition("list", ParameterType.Array) { Position = 3 },
            new ParameterDefinition("missing", ParameterType.String) { Position = 4 },
            new ParameterDefinition("off", ParameterType.Boolean) { Position = 5 },
            new ParameterDefinition("obj", ParameterType.Object) { Position = 6 });
        var parameters = new Dictionary<string, JsonNode?>
        {
            ["name"] = "web 01",
            ["second"] = "two words",
            ["force"] = true,
            ["dry_run"] = false,
            ["tags"] = new JsonArray("a", "b"),
            ["opts"] = new JsonObject { ["k"] = "v" },
            ["empty"] = "",
            ["absent"] = null,
            ["count"] = 3,
            ["first"] = "one",
            ["flag"] = true,
            ["list"] = new JsonArray("x", 2, "z"),
            ["off"] = false,
            ["obj"] = new JsonObject { ["a"] = 1 },
        };

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(action, parameters), CancellationToken.None);

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        result.Text("stdout")!.Split('\n').ShouldBe(
        [
            "<--name=web 01>",
            "<--force>",
            "<--tags=[\"a\",\"b\"]>",
            "<--opts={\"k\":\"v\"}>",
            "<--count=3>",
            "<one>",
            "<two words>",
            "<1>",
            "<x,2,z>",
            "<>",
            "<0>",
            "<{\"a\":1}>",
        ]);
    }

    [Fact]
    public async Task RunAsync_KwargOp_PrefixesNamedArguments()
    {
        _pack.Script("args.sh", PrintArgs);
        var action = _pack.Action("args.sh", new ParameterDefinition("kwarg_op", ParameterType.String), new ParameterDefinition("level", ParameterType.Integer));

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(action, new() { ["kwarg_op"] = "-", ["level"] = 2 }), CancellationToken.None);

        result.Text("stdout").ShouldBe("<-level=2>");
    }

    [Fact]
    public async Task RunAsync_RunnerParameters_AreNeitherArgumentsNorExported()
    {
        _pack.Script("env.sh", "#!/bin/bash\nprintf '<%s>' \"$@\"; env | grep -c '^OPSROBOT_PARAM_' || true");
        var action = _pack.Action("env.sh", new ParameterDefinition("cwd", ParameterType.String), new ParameterDefinition("env", ParameterType.Object), new ParameterDefinition("kwarg_op", ParameterType.String), new ParameterDefinition("x", ParameterType.String));

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(action, new() { ["cwd"] = "/tmp", ["env"] = new JsonObject { ["A"] = "1" }, ["kwarg_op"] = "--", ["x"] = "1" }), CancellationToken.None);

        result.Text("stdout").ShouldBe("<--x=1>1");
    }

    [Fact]
    public async Task RunAsync_StackStormRunnerParametersDeclared_NotPassedToScript()
    {
        _pack.Script("args.sh", PrintArgs);
        var action = _pack.Action(
            "args.sh",
            new ParameterDefinition("timeout", ParameterType.Integer) { Default = 600 },
            new ParameterDefinition("sudo", ParameterType.Boolean),
            new ParameterDefinition("debug", ParameterType.Boolean),
            new ParameterDefinition("app", ParameterType.String));

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(action, new() { ["timeout"] = 600, ["sudo"] = false, ["debug"] = true, ["app"] = "web" }), CancellationToken.None);

        result.Text("stdout").ShouldBe("<--app=web>");
    }

    [Fact]
    public async Task RunAsync_SudoTrue_RefusedClearly()
    {
        _pack.Script("args.sh", PrintArgs);
        var action = _pack.Action("args.sh", new ParameterDefinition("sudo", ParameterType.Boolean));

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(action, new() { ["sudo"] = true }), CancellationToken.None);

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("'sudo'");
    }

    [Theory]
    [InlineData("command substitution", "$(touch {PWN})")]
    [InlineData("semicolon", "; touch {PWN}")]
    [InlineData("backticks", "`touch {PWN}`")]
    [InlineData("quotes", "'\"; touch {PWN}; \"'")]
    [InlineData("newline", "a\ntouch {PWN}")]
    [InlineData("glob", "*")]
    public async Task RunAsync_HostileArgumentValue_ArrivesAsOneLiteralArgument(string label, string template)
    {
        var pwned = $"/tmp/PWNED-{Guid.NewGuid():N}";
        var value = template.Replace("{PWN}", pwned, StringComparison.Ordinal);
        _pack.Script("args.sh", PrintArgs);
        var action = _pack.Action("args.sh", new ParameterDefinition("named", ParameterType.String), new ParameterDefinition("pos", ParameterType.String) { Position = 0 });

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(action, new() { ["named"] = value, ["pos"] = value }), CancellationToken.None);

        result.Text("stdout").ShouldBe($"<--named={value}>\n<{value}>", label);
        File.Exists(pwned).ShouldBeFalse(label);
    }

    [Fact]
    public async Task RunAsync_Parameters_ExportedAsEnvironmentVariables()
    {
        _pack.Script("env.sh", "#!/bin/bash\nprintf '%s|%s' \"$OPSROBOT_PARAM_HOST_NAME\" \"$OPSROBOT_EXECUTION_ID\"");
        var action = _pack.Action("env.sh", new ParameterDefinition("host_name", ParameterType.String));

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(action, new() { ["host_name"] = "db-1" }, executionId: "exec-42"), CancellationToken.None);

        result.Text("stdout").ShouldBe("db-1|exec-42");
    }

    [Fact]
    public async Task RunAsync_NotExecutableWithShebang_RunsTheInterpreterOnTheScript()
    {
        // cat as the interpreter prints the script itself: proof the #! line chose the program.
        var content = "#!/bin/cat\nhello from cat";
        _pack.Script("cat.txt", content, NotExecutable);

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(_pack.Action("cat.txt"), []), CancellationToken.None);

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        result.Text("stdout").ShouldBe(content);
    }

    [Fact]
    public async Task RunAsync_NotExecutableWithEnvShebang_PassesTheInterpreterArgument()
    {
        _pack.Script("env.sh", "#!/usr/bin/env bash\necho \"via env: ${BASH_VERSION:+bash}\"", NotExecutable);

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(_pack.Action("env.sh"), []), CancellationToken.None);

        result.Text("stdout").ShouldBe("via env: bash");
    }

    [Fact]
    public async Task RunAsync_NotExecutableWithoutShebang_RunsUnderBash()
    {
        _pack.Script("plain.sh", "echo \"bash=${BASH_VERSION:+yes}\"; echo \"args=$*\"", NotExecutable);
        var action = _pack.Action("plain.sh", new ParameterDefinition("a", ParameterType.String) { Position = 0 });

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(action, new() { ["a"] = "x y" }), CancellationToken.None);

        result.Text("stdout").ShouldBe("bash=yes\nargs=x y");
    }

    [Fact]
    public async Task RunAsync_NoCwd_RunsInTheScriptsFolder()
    {
        var script = _pack.Script("sub/where.sh", "#!/bin/sh\npwd -P");

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(_pack.Action("sub/where.sh"), []), CancellationToken.None);

        result.Text("stdout").ShouldBe(Path.GetDirectoryName(script));
    }

    [Fact]
    public async Task RunAsync_ExitCodeAndJsonOutput_ReportedLikeShell()
    {
        _pack.Script("json.sh", "#!/bin/sh\necho '{\"ok\": false}'; exit 2");

        var result = await TestRunners.Script().RunAsync(TestRunners.Context(_pack.Action("json.sh"), []), CancellationToken.None);

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.ExitCode.ShouldBe(2);
        result.Result!["stdout"]!["ok"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task RunAsync_CanceledScriptWithBackgroundChildren_AllStopped()
    {
        _pack.Script("tree.sh", """
            #!/bin/bash
            trap '' TERM
            echo "leader=$$"
            (trap '' TERM; sleep 1000) &
            sleep 1000 &
            sleep 0.2
            echo ready
            wait
            """);
        var output = new RecordingOutput();
        using var cts = new CancellationTokenSource();

        var run = TestRunners.Script().RunAsync(TestRunners.Context(_pack.Action("tree.sh"), [], output), cts.Token);
        await output.WaitForStdoutAsync("ready").WaitAsync(TimeSpan.FromSeconds(10));
        var leader = Procs.Pids(output.Stdout, "leader").Single();
        var tree = Procs.LiveInSession(leader);
        await cts.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(10));

        result.Outcome.ShouldBe(RunnerOutcome.Canceled);
        tree.Count.ShouldBeGreaterThanOrEqualTo(3);
        tree.Where(Procs.IsRunning).ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_EntryPointInvalid_FailsWithTheProblemAndRunsNothing()
    {
        var result = await TestRunners.Script().RunAsync(TestRunners.Context(_pack.Action("missing.sh"), []), CancellationToken.None);

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("does not exist");
    }

    [Fact]
    public void Validate_ScriptInsidePack_NoProblems()
    {
        _pack.Script("ok.sh", "#!/bin/sh\ntrue");
        _pack.Script("../lib/helper.sh", "#!/bin/sh\ntrue");

        TestRunners.Script().Validate(_pack.Action("ok.sh")).ShouldBeEmpty();
        TestRunners.Script().Validate(_pack.Action("../lib/helper.sh")).ShouldBeEmpty();
    }

    [Fact]
    public void Validate_SymlinkInsidePackToFileInsidePack_NoProblems()
    {
        var target = _pack.Script("real.sh", "#!/bin/sh\ntrue");
        File.CreateSymbolicLink(Path.Combine(_pack.ActionsDirectory, "link.sh"), target);

        TestRunners.Script().Validate(_pack.Action("link.sh")).ShouldBeEmpty();
    }

    [Fact]
    public void Validate_PackFolderReachedThroughSymlink_NoProblems()
    {
        _pack.Script("ok.sh", "#!/bin/sh\ntrue");
        var linkedPack = Path.Combine(_pack.Root, "linked-pack");
        Directory.CreateSymbolicLink(linkedPack, _pack.PackDirectory);
        var action = _pack.Action("ok.sh") with { PackDirectory = linkedPack };

        TestRunners.Script().Validate(action).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("no entry_point", null, "needs an entry_point")]
    [InlineData("empty entry_point", "  ", "needs an entry_point")]
    [InlineData("missing file", "nope.sh", "does not exist")]
    [InlineData("dot-dot out of the pack", "../../other/evil.sh", "outside the pack")]
    [InlineData("dot-dot into a sibling pack", "../../demo2/actions/x.sh", "outside the pack")]
    [InlineData("absolute path outside", "/bin/ls", "outside the pack")]
    [InlineData("prefix trick", "../../demo-evil/x.sh", "outside the pack")]
    [InlineData("folder", "sub", "is a folder")]
    [InlineData("symlink to outside file", "escape.sh", "symbolic link")]
    [InlineData("symlink to outside folder", "escdir/x.sh", "symbolic link")]
    public void Validate_BadEntryPoint_ReportsProblem(string label, string? entryPoint, string expected)
    {
        Directory.CreateDirectory(Path.Combine(_pack.ActionsDirectory, "sub"));
        var outside = Path.Combine(_pack.Root, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "x.sh"), "#!/bin/sh\n");
        File.CreateSymbolicLink(Path.Combine(_pack.ActionsDirectory, "escape.sh"), Path.Combine(outside, "x.sh"));
        Directory.CreateSymbolicLink(Path.Combine(_pack.ActionsDirectory, "escdir"), outside);
        foreach (var file in new[] { "other/evil.sh", "demo2/actions/x.sh", "demo-evil/x.sh" })
        {
            var path = Path.Combine(_pack.Root, "packs", file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "#!/bin/sh\n");
        }

        var problems = TestRunners.Script().Validate(_pack.Action(entryPoint)).ToList();

        problems.ShouldHaveSingleItem(label).ShouldContain(expected, Case.Insensitive, label);
    }

    [Theory]
    [InlineData("plain", "#!/bin/sh\necho", "/bin/sh", null)]
    [InlineData("space after bang", "#! /bin/bash\n", "/bin/bash", null)]
    [InlineData("env with argument", "#!/usr/bin/env python3\n", "/usr/bin/env", "python3")]
    [InlineData("rest of line is one argument", "#!/usr/bin/env -S python3 -u\n", "/usr/bin/env", "-S python3 -u")]
    [InlineData("windows line ending", "#!/bin/bash\r\necho", "/bin/bash", null)]
    [InlineData("no newline", "#!/bin/sh", "/bin/sh", null)]
    public void ReadShebang_InterpreterLine_ParsedLikeLinux(string label, string content, string interpreter, string? argument)
    {
        var path = _pack.Script("s", content, NotExecutable);

        var shebang = ScriptRunner.ReadShebang(path);

        shebang.ShouldNotBeNull(label);
        shebang.Value.Interpreter.ShouldBe(interpreter, label);
        shebang.Value.Argument.ShouldBe(argument, label);
    }

    [Theory]
    [InlineData("no shebang", "echo hi\n")]
    [InlineData("empty shebang", "#!\necho")]
    [InlineData("empty file", "")]
    [InlineData("comment", "# !/bin/sh\n")]
    public void ReadShebang_NoInterpreterLine_ReturnsNull(string label, string content)
    {
        var path = _pack.Script("s", content, NotExecutable);

        ScriptRunner.ReadShebang(path).ShouldBeNull(label);
    }
}
