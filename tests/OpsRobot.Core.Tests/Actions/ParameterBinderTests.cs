using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;

namespace OpsRobot.Core.Tests.Actions;

public sealed class ParameterBinderTests
{
    private static readonly ActionDefinition Action = new("demo", "deploy", "noop")
    {
        Parameters =
        [
            new ParameterDefinition("app", ParameterType.String) { Required = true },
            new ParameterDefinition("count", ParameterType.Integer) { Default = JsonValue.Create(1L) },
            new ParameterDefinition("ratio", ParameterType.Number),
            new ParameterDefinition("force", ParameterType.Boolean) { Default = false },
            new ParameterDefinition("hosts", ParameterType.Array),
            new ParameterDefinition("extra", ParameterType.Object),
            new ParameterDefinition("env", ParameterType.String) { Enum = [JsonValue.Create("staging"), JsonValue.Create("prod")], Default = "staging" },
            new ParameterDefinition("token", ParameterType.String) { Secret = true },
            new ParameterDefinition("cmd", ParameterType.String) { Immutable = true, Default = "run" },
        ],
    };

    [Fact]
    public void Bind_TextValues_AreConvertedToTheDeclaredTypes()
    {
        var bound = ParameterBinder.Bind(Action, new JsonObject
        {
            ["app"] = "booking",
            ["count"] = "3",
            ["ratio"] = "0.5",
            ["force"] = "yes",
            ["hosts"] = "web01, web02",
            ["extra"] = "{\"a\": 1}",
            ["env"] = "prod",
            ["token"] = "hunter2",
        });

        bound.Values["count"]!.GetValue<long>().ShouldBe(3);
        bound.Values["ratio"]!.GetValue<double>().ShouldBe(0.5);
        bound.Values["force"]!.GetValue<bool>().ShouldBeTrue();
        bound.Values["hosts"]!.AsArray().Select(h => h!.GetValue<string>()).ShouldBe(["web01", "web02"]);
        bound.Values["extra"]!["a"]!.GetValue<int>().ShouldBe(1);
        bound.Values["token"]!.GetValue<string>().ShouldBe("hunter2");
        bound.Values["cmd"]!.GetValue<string>().ShouldBe("run");
    }

    [Fact]
    public void Bind_Secret_IsMaskedInTheCopyThatIsShownAndStored()
    {
        var bound = ParameterBinder.Bind(Action, new JsonObject { ["app"] = "a", ["token"] = "hunter2" });

        bound.Masked["token"]!.GetValue<string>().ShouldBe(SecretMask.Mask);
        bound.Masked.ToJsonString().ShouldNotContain("hunter2");
    }

    [Fact]
    public void Bind_Absent_DefaultsAppliedAndOptionalOnesLeftOut()
    {
        var bound = ParameterBinder.Bind(Action, new JsonObject { ["app"] = "a" });

        bound.Values["count"]!.GetValue<long>().ShouldBe(1);
        bound.Values["env"]!.GetValue<string>().ShouldBe("staging");
        bound.Values.ContainsKey("ratio").ShouldBeFalse();
    }

    [Theory]
    [InlineData("missing required", "{}", "app", "needs parameter 'app'")]
    [InlineData("unknown", "{\"app\":\"a\",\"colour\":\"red\"}", "colour", "has no parameter 'colour'; it takes: app, count")]
    [InlineData("immutable", "{\"app\":\"a\",\"cmd\":\"rm -rf /\"}", "cmd", "fixed by the action")]
    [InlineData("integer from text", "{\"app\":\"a\",\"count\":\"three\"}", "count", "must be an integer; got 'three'")]
    [InlineData("integer from a fraction", "{\"app\":\"a\",\"count\":2.5}", "count", "must be an integer")]
    [InlineData("boolean", "{\"app\":\"a\",\"force\":\"maybe\"}", "force", "must be true or false")]
    [InlineData("object from bad JSON", "{\"app\":\"a\",\"extra\":\"{nope\"}", "extra", "is not valid JSON")]
    [InlineData("string from a number", "{\"app\":5}", "app", "must be a string; got number")]
    [InlineData("outside the enum", "{\"app\":\"a\",\"env\":\"moon\"}", "env", "must be one of \"staging\", \"prod\"")]
    public void Bind_BadValue_NamesTheParameterAndWhatWasExpected(string row, string input, string parameter, string message)
    {
        var ex = Should.Throw<ParameterException>(() => ParameterBinder.Bind(Action, JsonNode.Parse(input)!.AsObject()), row);

        ex.Parameter.ShouldBe(parameter, row);
        ex.Message.ShouldContain(message, Case.Sensitive, row);
    }

    [Fact]
    public void Bind_SecretWithWrongType_DoesNotEchoTheValue()
    {
        var action = new ActionDefinition("demo", "x", "noop") { Parameters = [new ParameterDefinition("pin", ParameterType.Integer) { Secret = true }] };

        var ex = Should.Throw<ParameterException>(() => ParameterBinder.Bind(action, new JsonObject { ["pin"] = "hunter2" }));

        ex.Message.ShouldNotContain("hunter2");
    }

    [Fact]
    public void Bind_OversizedString_IsRefused()
    {
        var ex = Should.Throw<ParameterException>(() => ParameterBinder.Bind(Action, new JsonObject { ["app"] = new string('x', ParameterBinder.MaxStringLength + 1) }));

        ex.Message.ShouldContain("the limit is");
    }
}
