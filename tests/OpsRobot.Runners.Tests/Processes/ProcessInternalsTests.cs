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
