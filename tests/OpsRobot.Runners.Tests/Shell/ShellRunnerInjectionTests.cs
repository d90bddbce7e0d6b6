using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Runners.Tests.Support;

namespace OpsRobot.Runners.Tests.Shell;

/// <summary>Nothing a caller sends may ever be read by the shell as code: every hostile value arrives as data.</summary>
public sealed class ShellRunnerInjectionTests
{
    /// <summary>Each row's {PWN} is replaced with a fresh /tmp/PWNED-guid path that must never be created.</summary>
    public static TheoryData<string, string> HostileValues => new()
    {
        { "command substitution", "$(touch {PWN})" },
        { "backticks", "`touch {PWN}`" },
        { "semicolon", "; touch {PWN}" },
        { "pipe", "| touch {PWN}" },
        { "and-and", "&& touch {PWN}" },
        { "or-or", "nothing || touch {PWN}" },
        { "background", "& touch {PWN}" },
        { "newline", "x\ntouch {PWN}" },
        { "single quote breakout", "'; touch {PWN}; echo '" },
        { "double quote breakout", "\"; touch {PWN}; echo \"" },
        { "escaped single quote", "\\'; touch {PWN}; #" },
        { "backslash", "a\\b\\\\c\\" },
        { "redirection", "> {PWN}" },
        { "process substitution", "<(touch {PWN})" },
        { "glob star", "*" },
        { "glob root", "/*" },
        { "variable", "$HOME ${IFS} $0" },
        { "arithmetic", "$((1+1))$(touch {PWN})" },
        { "brace expansion", "{a,b}" },
        { "tilde", "~root" },
        { "leading dash", "-n -e \\x41" },
        { "unicode", "héllo ✓ — \u200b" },
    };

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task RunAsync_HostileValueInCmdTemplate_CommandSeesLiteralValue(string label, string template)
    {
        var pwned = $"/tmp/PWNED-{Guid.NewGuid():N}";
        var value = template.Replace("{PWN}", pwned, StringComparison.Ordinal);

        var result = await TestRunners.RunShellAsync("printf '%s' {{ value }}", new() { ["value"] = value });

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded, label);
        result.Text("stdout").ShouldBe(value, label);
        File.Exists(pwned).ShouldBeFalse(label);
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task RunAsync_HostileValue_ExportedLiterallyAsEnvironmentVariable(string label, string template)
    {
        var pwned = $"/tmp/PWNED-{Guid.NewGuid():N}";
        var value = template.Replace("{PWN}", pwned, StringComparison.Ordinal);

        var result = await TestRunners.RunShellAsync("printf '%s' \"$OPSROBOT_PARAM_VALUE\"", new() { ["value"] = value });

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded, label);
        result.Text("stdout").ShouldBe(value, label);
        File.Exists(pwned).ShouldBeFalse(label);
    }

    [Fact]
    public async Task RunAsync_HostileValueUsedTwiceAndInsideWords_EachUseStaysOneWord()
    {
        var pwned = $"/tmp/PWNED-{Guid.NewGuid():N}";
        var value = $"a b; touch {pwned}";

        // '[%s]', not '<%s>': "<%" opens an Orquesta-style expression in the template language.
        var result = await TestRunners.RunShellAsync("printf '[%s]' {{ v }} x{{ v }}y", new() { ["v"] = value });

        result.Error.ShouldBeNull();
        result.Text("stdout").ShouldBe($"[{value}][x{value}y]");
        File.Exists(pwned).ShouldBeFalse();
    }

    [Fact]
    public async Task RunAsync_LoopAndFilterOverHostileValues_EveryInsertedValueQuoted()
    {
        var pwned = $"/tmp/PWNED-{Guid.NewGuid():N}";
        var hosts = new JsonArray("web-1", $"$(touch {pwned})", $"db; touch {pwned}");
        var action = TestRunners.ShellAction(new ParameterDefinition("hosts", ParameterType.Array), new ParameterDefinition("who", ParameterType.String));
        var cmd = "{% for h in hosts %}printf '[%s]' {{ h }}; {% endfor %}printf '[%s]' {{ who | upper }}";
        var parameters = new Dictionary<string, JsonNode?> { ["cmd"] = cmd, ["hosts"] = hosts, ["who"] = "`id`" };

        var result = await TestRunners.Shell().RunAsync(TestRunners.Context(action, parameters), CancellationToken.None);

        result.Error.ShouldBeNull();
        result.Text("stdout").ShouldBe($"[web-1][$(touch {pwned})][db; touch {pwned}][`ID`]");
        File.Exists(pwned).ShouldBeFalse();
    }

    [Fact]
    public async Task RunAsync_ValueWithNulCharacter_FailsWithoutRunning()
    {
        var result = await TestRunners.RunShellAsync("echo {{ v }}", new() { ["v"] = "a\0b" });

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("NUL");
        result.Error.ShouldContain("'v'");
    }

    [Fact]
    public async Task RunAsync_HostileEnvironmentValue_ReachesProcessAsData()
    {
        var pwned = $"/tmp/PWNED-{Guid.NewGuid():N}";
        var env = new JsonObject { ["GREETING"] = $"$(touch {pwned})" };

        var result = await TestRunners.RunShellAsync("printf '%s' \"$GREETING\"", new() { ["env"] = env });

        result.Text("stdout").ShouldBe($"$(touch {pwned})");
        File.Exists(pwned).ShouldBeFalse();
    }
}
