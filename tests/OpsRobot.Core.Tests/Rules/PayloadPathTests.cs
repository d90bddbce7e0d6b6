using System.Text.Json.Nodes;
using OpsRobot.Core.Rules;

namespace OpsRobot.Core.Tests.Rules;

public sealed class PayloadPathTests
{
    private static readonly JsonNode Payload = JsonNode.Parse("""
        {
          "body": { "alerts": [ { "labels": { "alert-name": "DiskFull", "sev": null } }, { "labels": { "alert-name": "CPU" } } ] },
          "headers": { "X-Custom-Header": "yes" },
          "n": 0
        }
        """)!;

    [Theory]
    [InlineData("trigger.body.alerts[0].labels['alert-name']", "\"DiskFull\"", "bracketed field with a dash")]
    [InlineData("trigger.body.alerts[-1].labels[\"alert-name\"]", "\"CPU\"", "negative index, double quotes")]
    [InlineData("trigger.headers['X-Custom-Header']", "\"yes\"", "StackStorm's header form")]
    [InlineData("trigger.body.alerts[*].labels['alert-name']", "\"DiskFull\"", "wildcard: the first match")]
    [InlineData("trigger.body.*", "[{\"labels\":{\"alert-name\":\"DiskFull\",\"sev\":null}},{\"labels\":{\"alert-name\":\"CPU\"}}]", "field wildcard")]
    [InlineData("trigger.n", "0", "zero is a value")]
    public void Find_ExistingKey_GivesItsValue(string key, string expected, string why)
    {
        var found = PayloadPath.Parse(key).Find(Payload);

        found.ShouldNotBeNull(why).ToJsonString().ShouldBe(expected, why);
    }

    [Theory]
    [InlineData("trigger.missing")]
    [InlineData("trigger.body.alerts[5]")]
    [InlineData("trigger.body.alerts[0].labels.sev")]
    [InlineData("trigger.n.deeper")]
    [InlineData("trigger.body[0]")]
    public void Find_MissingOrNull_IsNull(string key) => PayloadPath.Parse(key).Find(Payload).ShouldBeNull();

    [Theory]
    [InlineData("", "empty")]
    [InlineData("trigger.", "missing")]
    [InlineData("trigger['x'", "not closed")]
    [InlineData("trigger[x]", "neither")]
    [InlineData("trigger x", "unexpected")]
    public void Parse_BadKey_SaysWhat(string key, string message) =>
        Should.Throw<FormatException>(() => PayloadPath.Parse(key)).Message.ShouldContain(message);

    [Fact]
    public void Parse_HugeKey_IsRefused() =>
        Should.Throw<FormatException>(() => PayloadPath.Parse("trigger." + new string('a', PayloadPath.MaxLength))).Message.ShouldContain("longer");

    [Fact]
    public void Root_IsTheFirstName() => PayloadPath.Parse("item.x").Root.ShouldBe("item");
}
