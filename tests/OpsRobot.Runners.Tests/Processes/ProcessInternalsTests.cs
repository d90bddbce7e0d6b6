using System.Diagnostics;
using OpsRobot.Runners.Processes;

namespace OpsRobot.Runners.Tests.Processes;

public sealed class ProcessTableTests
{
    [Theory]
    [InlineData("plain name", "1234 (bash) S 1 1234 1234 0 -1 4194560", 1234, 'S', 1, 1234, 1234)]
    [InlineData("name with spaces and parentheses", "77 (my (odd) name) R 5 70 60 0 -1", 77, 'R', 5, 70, 60)]
    [InlineData("zombie", "9 (sleep) Z 1 8 8 0", 9, 'Z', 1, 8, 8)]
    public void Parse_StatLine_ReadsStateGroupAndSession(string label, string line, int pid, char state, int ppid, int group, int session)
    {
        var stat = ProcessTable.Parse(line);

        stat.ShouldBe(new ProcessStat(pid, state, ppid, group, session), label);
    }

    [Theory]
    [InlineData("empty", "")]
    [InlineData("no parenthesis", "12 bash S 1 2 3")]
    [InlineData("truncated", "12 (bash) S 1")]
    public void Parse_Garbage_ReturnsNull(string label, string line)
    {
        ProcessTable.Parse(line).ShouldBeNull(label);
    }

    [Fact]
    public void Read_OwnProcess_MatchesEnvironment()
    {
        var stat = ProcessTable.Read(Environment.ProcessId);

        stat.ShouldNotBeNull().ProcessId.ShouldBe(Environment.ProcessId);
        stat.Value.ParentId.ShouldBeGreaterThanOrEqualTo(0);
        stat.Value.IsDead.ShouldBeFalse();
    }

    [Theory]
    [InlineData("no such process (beyond pid_max)", int.MaxValue)]
    [InlineData("zero", 0)]
    [InlineData("negative", -5)]
    public void Read_NoSuchProcess_ReturnsNull(string label, int processId)
    {
        ProcessTable.Read(processId).ShouldBeNull(label);
    }

    [Fact]
    public async Task SnapshotAsync_ManyRunsEndingAtOnce_ShareScans()
    {
        // As a burst of runs ending together asks for leftovers: 200 callers at once.
        var snapshots = Enumerable.Range(0, 200).Select(_ => ProcessTable.SnapshotAsync()).ToList();
        await Task.WhenAll(snapshots);

        // A scan is shared by everyone who asked before it began: a handful of scans, not one per caller.
        snapshots.Distinct().Count().ShouldBeLessThanOrEqualTo(20);
        foreach (var snapshot in snapshots)
        {
            (await snapshot).ShouldContain(p => p.ProcessId == Environment.ProcessId);
        }
    }

    [Fact]
    public async Task SnapshotAsync_AfterAProcessStarts_SeesItInItsSession_AndNotOnceItIsGone()
    {
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/setsid", ["--wait", "sleep", "60"]) { UseShellExecute = false })!;
        try
        {
            // setsid execs sleep once the new session exists; wait for that rather than for a fixed time.
            var clock = Stopwatch.StartNew();
            var members = ProcessTable.Members(await ProcessTable.SnapshotAsync(), process.Id);
            while (members.Count == 0 && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(20);
                members = ProcessTable.Members(await ProcessTable.SnapshotAsync(), process.Id);
            }

            var member = members.ShouldHaveSingleItem();
            member.ProcessId.ShouldBe(process.Id);
            member.ProcessGroupId.ShouldBe(process.Id);
            member.SessionId.ShouldBe(process.Id);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        ProcessTable.Members(await ProcessTable.SnapshotAsync(), process.Id).ShouldBeEmpty();
    }
}

public sealed class BoundedTextTests
{
    [Fact]
    public void Append_UnderLimit_KeepsEverything()
    {
        var text = new BoundedText(10);
        text.Append("hello");
        text.Append("world");

        text.ToString().ShouldBe("helloworld");
        text.Truncated.ShouldBeFalse();
    }

    [Fact]
    public void Append_OverLimit_KeepsPrefixAndCountsTheRest()
    {
        var text = new BoundedText(4);
        text.Append("abc");
        text.Append("defgh");

        text.Dropped.ShouldBe(4);
        text.ToString().ShouldStartWith("abcd\n[… output truncated");
        text.ToString().ShouldContain("4 more characters");
    }

    [Fact]
    public void Append_LimitFallsInsideSurrogatePair_PairIsNotCut()
    {
        var text = new BoundedText(2);
        text.Append("a😀b");

        text.ToString().ShouldStartWith("a\n");
        text.Dropped.ShouldBe(3);
    }
}

public sealed class ProcessResultTests
{
    [Theory]
    [InlineData("one newline", "a\n", "a")]
    [InlineData("crlf", "a\r\n", "a")]
    [InlineData("two newlines keep one", "a\n\n", "a\n")]
    [InlineData("none", "a", "a")]
    [InlineData("only cr", "a\r", "a")]
    public void StripShellChars_LikeStackStorm(string label, string input, string expected)
    {
        ProcessResult.StripShellChars(input).ShouldBe(expected, label);
    }

    [Fact]
    public void ParseOutput_TruncatedJson_StaysText()
    {
        ProcessResult.ParseOutput("{\"a\":1}", truncated: true)!.GetValue<string>().ShouldBe("{\"a\":1}");
    }
}

public sealed class ProcessEnvironmentTests
{
    [Theory]
    [InlineData("simple", "host", "OPSROBOT_PARAM_HOST")]
    [InlineData("dash and dot", "my-app.name", "OPSROBOT_PARAM_MY_APP_NAME")]
    [InlineData("already upper with digits", "V2_ID", "OPSROBOT_PARAM_V2_ID")]
    [InlineData("non-ascii", "héllo", "OPSROBOT_PARAM_H_LLO")]
    public void ParameterVariable_Name_UpperCasedAndSanitised(string label, string name, string expected)
    {
        ProcessEnvironment.ParameterVariable(name).ShouldBe(expected, label);
    }
}
