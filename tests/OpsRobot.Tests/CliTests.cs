using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>The executable as an operator runs it: real processes, real standard streams, real exit codes.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Version_PrintsTheProductVersion()
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["version"]);

        result.ExitCode.ShouldBe(0);
        result.StandardOutput.Trim().ShouldStartWith("opsrobot 0.");
    }

    [Fact]
    public async Task Help_ListsTheVerbs()
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["--help"]);

        result.ExitCode.ShouldBe(0);
        foreach (var verb in new[] { "serve", "shell", "version", "user" })
        {
            result.StandardOutput.ShouldContain(verb);
        }
    }

    [Fact]
    public async Task Shell_Piped_AnswersEveryLineInOrderWithNoPromptAndExits()
    {
        using var home = new TestHome();
        var lines = Enumerable.Range(0, 50).Select(i => $"echo line-{i}").ToList();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["shell", "--user", "alice"], string.Join('\n', lines) + "\n");

        result.ExitCode.ShouldBe(0, result.StandardError);
        var output = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        output.ShouldBe(Enumerable.Range(0, 50).Select(i => $"line-{i}").ToArray());
        result.StandardOutput.ShouldNotContain("alice@");
    }

    [Fact]
    public async Task Shell_LeavesExecutionsACrashedServerQueued_ForTheNextServer()
    {
        using var home = new TestHome();
        (await OpsRobotProcess.RunAsync(home.Path, ["shell", "--user", "alice"], "echo first\n")).ExitCode.ShouldBe(0);
        var database = Path.Combine(home.Path, "data", "opsrobot.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        {
            // Queued by a server that is gone (its owner names another machine, so it cannot be alive).
            await connection.OpenAsync();
            await using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO executions (action_ref, runner_type, parameters, status, requester, requester_user, created_at, owner)
                VALUES ('core.echo', 'echo', '{"message":"left"}', 'requested', '{"userName":"alice","door":1}', 'alice', 0, 'gone-host:1:1')
                """;
            await insert.ExecuteNonQueryAsync();
        }

        var result = await OpsRobotProcess.RunAsync(home.Path, ["shell", "--user", "alice"], "echo second\n");

        result.ExitCode.ShouldBe(0, result.StandardError);
        result.StandardOutput.Trim().ShouldBe("second");
        await using var check = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False");
        await check.OpenAsync();
        await using var read = check.CreateCommand();
        read.CommandText = "SELECT status || ' ' || owner FROM executions WHERE owner = 'gone-host:1:1' OR parameters LIKE '%left%'";
        (await read.ExecuteScalarAsync()).ShouldBe("requested gone-host:1:1");
    }

    [Fact]
    public async Task Shell_PipedBurst_EveryLineAuditedInOrder_HistoryPairsEachLineWithItsAnswer()
    {
        using var home = new TestHome();
        var lines = Enumerable.Range(0, 600).Select(i => i % 100 == 99 ? $"frobnicate {i}" : $"echo line-{i}").ToList();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["shell", "--user", "alice"], string.Join('\n', lines) + "\n");
        var verify = await OpsRobotProcess.RunAsync(home.Path, ["audit", "verify"]);

        result.ExitCode.ShouldBe(0, result.StandardError);
        var output = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        output.Length.ShouldBe(600);
        output.Where((_, i) => i % 100 != 99).ShouldBe(Enumerable.Range(0, 600).Where(i => i % 100 != 99).Select(i => $"line-{i}"));
        output.Where((_, i) => i % 100 == 99).ShouldAllBe(o => o.StartsWith("I don't know the command", StringComparison.Ordinal));
        verify.ExitCode.ShouldBe(0, verify.StandardError);
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(home.Path, "data", "opsrobot.db")};Pooling=False");
        await connection.OpenAsync();
        await using (var audit = connection.CreateCommand())
        {
            audit.CommandText = "SELECT subject || ' ' || decision FROM audit WHERE kind = 'command' AND actor = 'alice' ORDER BY id";
            var records = new List<string>();
            await using var reader = await audit.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                records.Add(reader.GetString(0));
            }

            records.ShouldBe(lines.Select(l => l + (l.StartsWith("frobnicate", StringComparison.Ordinal) ? " deny" : " allow")));
        }

        await using var history = connection.CreateCommand();
        history.CommandText = "SELECT m.text FROM messages m JOIN rooms r ON r.id = m.room_id WHERE r.kind = 'direct' ORDER BY m.id";
        var texts = new List<string>();
        await using (var reader = await history.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                texts.Add(reader.GetString(0));
            }
        }

        texts.Count.ShouldBe(1200);
        texts.Where((_, i) => i % 2 == 0).ShouldBe(lines);
        texts.Where((_, i) => i % 2 == 1).Select((t, k) => lines[k].StartsWith("frobnicate", StringComparison.Ordinal) ? t[..24] : t)
            .ShouldBe(lines.Select(l => l.StartsWith("frobnicate", StringComparison.Ordinal) ? "I don't know the command" : l["echo ".Length..]));
    }

    [Fact]
    public async Task Shell_Piped_LastLineWithoutNewlineIsStillAnswered()
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["shell"], "!ping\nwhoami");

        result.ExitCode.ShouldBe(0, result.StandardError);
        result.StandardOutput.ShouldStartWith("pong\n");
        result.StandardOutput.ShouldContain("You are");
    }

    [Fact]
    public async Task Shell_InARoom_AnswersOnlyAddressedLines_AndSharesTheStoreWithTheServer()
    {
        using var home = new TestHome();

        var shell = await OpsRobotProcess.RunAsync(home.Path, ["shell", "--user", "carol", "--room", "ops"], "good morning\n!ping\nopsrobot: echo hi\n");

        shell.ExitCode.ShouldBe(0, shell.StandardError);
        shell.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["pong", "hi"]);

        // The same room's history, read by the server from the same store.
        await using var server = await RunningServer.StartAsync(home: home);
        using var admin = await server.SignInAsync();
        await admin.PostAsync("/api/v1/rooms/ops/join", System.Net.Http.Json.JsonContent.Create(new { }));
        var history = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/rooms/ops/messages")).RootElement.GetProperty("messages");
        history.EnumerateArray().Select(m => m.GetProperty("text").GetString()).ShouldBe(["good morning", "!ping", "pong", "opsrobot: echo hi", "hi"]);
    }

    [Fact]
    public async Task Shell_EnvironmentAndCommandLineConfiguration_AreHonoured()
    {
        using var home = new TestHome();

        var env = await OpsRobotProcess.RunAsync(home.Path, ["shell", "--room", "ops"], ".ping\n!ping\n",
            new Dictionary<string, string> { ["OPSROBOT__COMMANDPREFIX"] = "." });
        var cli = await OpsRobotProcess.RunAsync(home.Path, ["shell", "--room", "ops", "--OpsRobot:RobotName=hal"], "hal: ping\nopsrobot: ping\n");

        env.StandardOutput.Trim().ShouldBe("pong");
        cli.StandardOutput.Trim().ShouldBe("pong");
    }

    [Theory]
    [InlineData("a mistyped flag on a client verb", "kv set system.dbpw2 hunter2 --secert", "Unknown option --secert. Did you mean --secret?")]
    [InlineData("an argument a verb does not take", "login admin", "Unexpected argument 'admin' for 'opsrobot login'.")]
    [InlineData("a mistyped option on a nested verb", "execution get 3 --jsn", "Unknown option --jsn. Did you mean --json?")]
    [InlineData("a mistyped option on an offline verb", "user add dave --rol admin", "Unknown option --rol. Did you mean --role?")]
    [InlineData("a mistyped verb", "exectuion list", "Unknown verb 'exectuion'. Did you mean 'opsrobot execution'?")]
    [InlineData("a mistyped option on serve", "serve --lisen http://127.0.0.1:1", "Unknown option --lisen. Did you mean --listen?")]
    [InlineData("a mistyped option on the root, which serves", "--lisen=http://127.0.0.1:1", "Unknown option --lisen. Did you mean --listen?")]
    [InlineData("a bare word on shell", "shell ops", "Unexpected argument 'ops' for 'opsrobot shell'.")]
    public async Task Verb_UnknownOptionOrArgument_IsRefusedNamingItAndNothingRuns(string row, string line, string named)
    {
        using var home = new TestHome();
        var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)closed.LocalEndpoint).Port}";
        closed.Stop();

        var result = await OpsRobotProcess.RunAsync(home.Path, line.Split(' '), "secret-password\n",
            new Dictionary<string, string> { ["OPSROBOT_URL"] = url });

        result.ExitCode.ShouldBeOneOf([1, 2], $"{row}: {result.StandardError}");
        result.StandardError.ShouldContain(named, Case.Sensitive, row);
        result.StandardError.ShouldNotContain("no OpsRobot server", Case.Insensitive, row);
        result.StandardOutput.ShouldBeEmpty(row);
        File.Exists(Path.Combine(home.Path, "data", "opsrobot.db")).ShouldBeFalse(row);
    }

    [Fact]
    public async Task Root_ConfigurationSwitch_StillServes()
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["--OpsRobot:Listen=ftp://example"]);

        // The setting reached the server's configuration (it refused the value), so the root stood in for serve.
        result.ExitCode.ShouldBe(2);
        result.StandardError.ShouldContain("OpsRobot:Listen 'ftp://example'");
    }

    [Fact]
    public async Task Shell_AppSettingsJsonInHome_IsRead()
    {
        using var home = new TestHome();
        home.Write("appsettings.json", """{ "OpsRobot": { "CommandPrefix": "?" } }""");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["shell", "--room", "ops"], "?ping\n");

        result.StandardOutput.Trim().ShouldBe("pong");
    }

    [Fact]
    public async Task Shell_BinaryGarbageAndHugeLines_AreAnsweredClearlyAndTheShellGoesOn()
    {
        using var home = new TestHome();
        var input = "\u0001\u0002\u0003\n" + "!echo " + new string('y', 5000) + "\n!ping\n";

        var result = await OpsRobotProcess.RunAsync(home.Path, ["shell"], input);

        result.ExitCode.ShouldBe(0);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(3);
        lines[0].ShouldContain("not text");
        lines[1].ShouldContain("limit is 4,000");
        lines[2].ShouldBe("pong");
    }

    [Fact]
    public async Task Serve_NotOnATerminal_LogsJsonAndKeepsTheGeneratedPasswordOutOfTheLogs()
    {
        using var home = new TestHome();
        var port = FreePort();
        using var process = Process.Start(OpsRobotProcess.StartInfo(home.Path, ["serve", "--listen", $"http://127.0.0.1:{port}"]))!;
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await WaitUntilHealthyAsync(client, TimeSpan.FromSeconds(30));
            var passwordFile = Path.Combine(home.DataDir, "initial-admin-password");
            File.Exists(passwordFile).ShouldBeTrue();
            var password = File.ReadAllText(passwordFile).Trim();
            File.GetUnixFileMode(passwordFile).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var login = await client.PostAsync("/api/v1/auth/login", System.Net.Http.Json.JsonContent.Create(new { userName = "admin", password }));
            login.StatusCode.ShouldBe(HttpStatusCode.OK);

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            var stdout = await process.StandardOutput.ReadToEndAsync();
            var stderr = await process.StandardError.ReadToEndAsync();

            stdout.ShouldNotContain(password);
            stderr.ShouldNotContain(password);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines.ShouldNotBeEmpty();
            foreach (var line in lines)
            {
                Should.NotThrow(() => JsonDocument.Parse(line), $"not a JSON log line: {line}");
            }

            stdout.ShouldContain("is ready at");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task UserAdd_ThenSignInOnTheServer_Works()
    {
        using var home = new TestHome();

        var add = await OpsRobotProcess.RunAsync(home.Path, ["user", "add", "dave"], "dave-password-1\n");
        var again = await OpsRobotProcess.RunAsync(home.Path, ["user", "add", "dave"], "dave-password-1\n");
        var shortPassword = await OpsRobotProcess.RunAsync(home.Path, ["user", "passwd", "dave"], "short\n");

        add.ExitCode.ShouldBe(0, add.StandardError);
        again.ExitCode.ShouldBe(1);
        again.StandardError.ShouldContain("already exists");
        shortPassword.ExitCode.ShouldBe(2);
        await using var server = await RunningServer.StartAsync(home: home);
        using var dave = await server.SignInAsync("dave", "dave-password-1");
    }

    [Fact]
    public async Task AliasTest_MatchingText_PrintsTheParametersAsTyped()
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["alias", "test", "--format", "deploy {{app}} to {{env=staging}}", "deploy \"my app\" to prod flag=1"]);

        result.ExitCode.ShouldBe(0, result.StandardError);
        JsonDocument.Parse(result.StandardOutput).RootElement.GetRawText().ShouldBe("""{"app":"my app","env":"prod","flag":"1"}""");
    }

    [Fact]
    public async Task AliasTest_TextThatDoesNotMatch_ExitsOneWithAMessage()
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["alias", "test", "--format", "deploy {{app}}", "restart web"]);

        result.ExitCode.ShouldBe(1);
        result.StandardOutput.ShouldBeEmpty();
        result.StandardError.ShouldContain("does not match");
    }

    [Fact]
    public async Task AliasMatch_ShippedPacks_TellsWhichAliasAndParameters()
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["alias", "match", "!dns web01.example"]);

        result.ExitCode.ShouldBe(0, result.StandardError);
        var json = JsonDocument.Parse(result.StandardOutput).RootElement;
        json.GetProperty("alias").GetString().ShouldBe("examples.dns");
        json.GetProperty("parameters").GetProperty("host").GetString().ShouldBe("web01.example");
    }

    [Fact]
    public async Task AliasMatch_ConfiguredCommandPrefix_IsTheOneStripped()
    {
        using var home = new TestHome();

        // The verb reads the configuration once, for the packs folder and the robot's prefix alike.
        var result = await OpsRobotProcess.RunAsync(home.Path, ["alias", "match", ".dns web01.example"], environment: new Dictionary<string, string> { ["OpsRobot__CommandPrefix"] = "." });

        result.ExitCode.ShouldBe(0, result.StandardError);
        JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("alias").GetString().ShouldBe("examples.dns");
    }

    [Fact]
    public async Task PacksValidate_ShippedPacks_AllValid()
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["packs", "validate"]);

        result.ExitCode.ShouldBe(0, result.StandardOutput + result.StandardError);
        result.StandardOutput.ShouldContain("ok     core 0.1.0");
        result.StandardOutput.ShouldContain("ok     examples 0.1.0");
    }

    [Fact]
    public async Task PacksValidate_BrokenPack_PrintsFileLineColumnAndExitsOne()
    {
        using var home = new TestHome();
        var file = home.Write("packs/broken/pack.yaml", "name: broken\nversion: 1\ndescription: d\n");
        var action = home.Write("packs/broken/actions/a.yaml", "name: a\nrunner_type: teleport\n");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["packs", "validate"]);

        result.ExitCode.ShouldBe(1);
        result.StandardOutput.ShouldContain($"error  {action}:2:14: unknown runner_type 'teleport'");
        _ = file;
    }

    [Fact]
    public async Task Shell_AliasCommands_PrintAckAndResultInOrderAndExitAfterTheLast()
    {
        using var home = new TestHome();
        DemoPack.WriteTo(home);
        var added = await OpsRobotProcess.RunAsync(home.Path, ["user", "add", "carol", "--role", "operator"], "password-for-tests\n");
        added.ExitCode.ShouldBe(0, added.StandardError);

        var result = await OpsRobotProcess.RunAsync(home.Path, ["shell", "--user", "carol"], "say one\nsay two\n!ping\n");

        result.ExitCode.ShouldBe(0, result.StandardError);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldStartWith("Running `demo.say` as execution #1");
        lines[1].ShouldContain("#1 succeeded");
        lines[2].Trim().ShouldBe("one");
        lines[3].ShouldStartWith("Running `demo.say` as execution #2");
        lines[^1].ShouldBe("pong");
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitUntilHealthyAsync(HttpClient client, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await client.GetAsync("/health")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (deadline.Elapsed < timeout)
            {
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException("The server did not become healthy in time.");
            }

            await Task.Delay(100);
        }
    }
}
