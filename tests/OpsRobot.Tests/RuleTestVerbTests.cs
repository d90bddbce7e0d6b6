using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary><c>opsrobot rule test</c> as an operator runs it: the real executable, exit codes and output.</summary>
public sealed class RuleTestVerbTests
{
    private const string Rule = """
        name: restart_on_down
        pack: ops
        trigger:
          type: core.st2.webhook
          parameters: {url: monitor}
        criteria:
          trigger.body.state:
            type: equals
            pattern: DOWN
          trigger.body.attempts:
            type: gt
            pattern: "{{ kv.system.max_attempts }}"
        action:
          ref: ops.restart
          parameters:
            host: "{{ trigger.body.host }}"
            reason: "{{ trigger.body.host }} is {{ trigger.body.state }}"
        """;

    [Fact]
    public async Task RuleTest_EventMatches_ExitsZeroAndPrintsTheRenderedParameters()
    {
        using var home = new TestHome(withShippedPacks: false);
        var rule = home.Write("rule.yaml", Rule);
        var ev = home.Write("event.json", """{"trigger": "core.st2.webhook", "payload": {"headers": {}, "body": {"state": "DOWN", "attempts": 5, "host": "web1"}}}""");
        var kv = home.Write("kv.json", """{"system": {"max_attempts": "3"}}""");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["rule", "test", "--rule", rule, "--event", ev, "--kv", kv]);

        result.ExitCode.ShouldBe(0, result.StandardError);
        result.StandardOutput.ShouldContain("Rule ops.restart_on_down would fire: action ops.restart as rule:ops.restart_on_down");
        result.StandardOutput.ShouldContain("\"host\": \"web1\"");
        result.StandardOutput.ShouldContain("\"reason\": \"web1 is DOWN\"");
    }

    [Fact]
    public async Task RuleTest_CriterionFails_ExitsOneAndSaysWhichAndWhy()
    {
        using var home = new TestHome(withShippedPacks: false);
        var rule = home.Write("rule.yaml", Rule);
        var ev = home.Write("event.json", """{"trigger": "core.webhook", "payload": {"body": {"state": "UP", "attempts": 5}}}""");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["rule", "test", "--rule", rule, "--event", ev]);

        result.ExitCode.ShouldBe(1, result.StandardError);
        result.StandardOutput.ShouldContain("would not fire");
        result.StandardOutput.ShouldContain("criterion: trigger.body.state (equals)");
        result.StandardOutput.ShouldContain("value:     \"UP\"");
        result.StandardOutput.ShouldContain("does not equal the pattern");
    }

    [Fact]
    public async Task RuleTest_OtherTrigger_ExitsOne()
    {
        using var home = new TestHome(withShippedPacks: false);
        var rule = home.Write("rule.yaml", Rule);
        var ev = home.Write("event.json", """{"trigger": "core.st2.IntervalTimer", "payload": {"executed_at": "x"}}""");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["rule", "test", "--rule", rule, "--event", ev]);

        result.ExitCode.ShouldBe(1);
        result.StandardOutput.ShouldContain("listens to core.webhook");
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1]", "must be a JSON object")]
    [InlineData("""{"payload": {}}""", "needs 'trigger'")]
    [InlineData("""{"trigger": "core.webhook", "payload": [1]}""", "must be a JSON object")]
    public async Task RuleTest_BrokenEventFile_ExitsTwoWithTheReason(string content, string message)
    {
        using var home = new TestHome(withShippedPacks: false);
        var rule = home.Write("rule.yaml", Rule);
        var ev = home.Write("event.json", content);

        var result = await OpsRobotProcess.RunAsync(home.Path, ["rule", "test", "--rule", rule, "--event", ev]);

        result.ExitCode.ShouldBe(2);
        result.StandardError.ShouldContain(message);
    }

    [Fact]
    public async Task RuleTest_BrokenRule_ExitsTwoNamingFileAndLine()
    {
        using var home = new TestHome(withShippedPacks: false);
        var rule = home.Write("rule.yaml", "name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\ncriteria:\n  trigger.a: {type: sameas, pattern: 1}\naction: {ref: a.b}\n");
        var ev = home.Write("event.json", """{"trigger": "core.webhook", "payload": {"a": 1}}""");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["rule", "test", "--rule", rule, "--event", ev]);

        result.ExitCode.ShouldBe(2);
        result.StandardError.ShouldContain("rule.yaml:4:");
        result.StandardError.ShouldContain("unknown criteria operator 'sameas'");
    }
}
