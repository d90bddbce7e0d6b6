using System.Text.Json.Nodes;

namespace OpsRobot.Runners.Tests;

public sealed class RunnerParametersTests
{
    private static Dictionary<string, JsonNode?> Parse(string json) =>
        JsonNode.Parse(json)!.AsObject().ToDictionary(p => p.Key, p => p.Value?.DeepClone(), StringComparer.Ordinal);

    [Theory]
    [InlineData("absent", """{}""")]
    [InlineData("JSON null", """{"x": null}""")]
    public void Get_AbsentOrNull_IsNull(string _, string json) =>
        RunnerParameters.Get(Parse(json), "x").ShouldBeNull();

    [Theory]
    [InlineData("a string", """{"x": "web1"}""", true, "web1", null)]
    [InlineData("absent", """{}""", true, null, null)]
    [InlineData("a number names its type, not its value", """{"x": 42}""", false, null, "Parameter 'x' must be a string, not a number.")]
    [InlineData("an object", """{"x": {"k": "secret"}}""", false, null, "Parameter 'x' must be a string, not an object.")]
    public void TryGetString_Values_AcceptedOrNamed(string _, string json, bool ok, string? expected, string? error)
    {
        RunnerParameters.TryGetString(Parse(json), "x", out var value, out var message).ShouldBe(ok);
        value.ShouldBe(expected);
        message.ShouldBe(error);
    }

    [Theory]
    [InlineData("a string", """{"x": "web1"}""", "web1")]
    [InlineData("a number is not given", """{"x": 1}""", null)]
    [InlineData("absent", """{}""", null)]
    public void GetString_WrongTypeOrAbsent_IsNull(string _, string json, string? expected) =>
        RunnerParameters.GetString(Parse(json), "x").ShouldBe(expected);

    [Theory]
    [InlineData("true", """{"x": true}""", true)]
    [InlineData("false", """{"x": false}""", false)]
    [InlineData("the string true is not the flag", """{"x": "true"}""", false)]
    [InlineData("absent", """{}""", false)]
    public void IsTrue_OnlyJsonTrue(string _, string json, bool expected) =>
        RunnerParameters.IsTrue(Parse(json), "x").ShouldBe(expected);

    [Theory]
    [InlineData("a JSON number", """{"x": 2.5}""", true, 2.5)]
    [InlineData("a number as text, as chat sends it", """{"x": "30"}""", true, 30.0)]
    [InlineData("absent", """{}""", true, null)]
    [InlineData("text that is no number", """{"x": "soon"}""", false, null)]
    [InlineData("NaN as text", """{"x": "NaN"}""", false, null)]
    [InlineData("infinity as text", """{"x": "Infinity"}""", false, null)]
    [InlineData("a number too large for a double", """{"x": 1e999}""", false, null)]
    [InlineData("a boolean", """{"x": true}""", false, null)]
    public void TryGetNumber_Values_FiniteNumbersOnly(string _, string json, bool ok, double? expected)
    {
        RunnerParameters.TryGetNumber(Parse(json), "x", out var value, out var error).ShouldBe(ok);
        value.ShouldBe(expected);
        if (!ok)
        {
            error.ShouldStartWith("Parameter 'x' must be a number, not ");
        }
    }

    [Theory]
    [InlineData("an array", """{"x": ["web1", "web2"]}""", true, "web1|web2")]
    [InlineData("numbers are taken as their text", """{"x": ["web1", 7]}""", true, "web1|7")]
    [InlineData("one comma-separated string, trimmed", """{"x": "web1, web2,,"}""", true, "web1|web2")]
    [InlineData("absent", """{}""", true, null)]
    public void TryGetStringList_CommaSeparated_Values(string _, string json, bool ok, string? expected)
    {
        RunnerParameters.TryGetStringList(Parse(json), "x", commaSeparated: true, out var value, out var error).ShouldBe(ok);
        (value is null ? null : string.Join('|', value)).ShouldBe(expected);
        error.ShouldBeNull();
    }

    [Fact]
    public void TryGetStringList_NotCommaSeparated_KeepsTheStringWhole()
    {
        RunnerParameters.TryGetStringList(Parse("""{"x": "a,b c"}"""), "x", commaSeparated: false, out var value, out _).ShouldBeTrue();
        value.ShouldBe(["a,b c"]);
    }

    [Theory]
    [InlineData("an item that is an object", """{"x": ["web1", {"k": 1}]}""", "Parameter 'x' must be a list of strings, not a list holding an object.")]
    [InlineData("a null item", """{"x": ["web1", null]}""", "Parameter 'x' must be a list of strings, not a list holding null.")]
    [InlineData("a number", """{"x": 5}""", "Parameter 'x' must be a list of strings (or one comma-separated string), not a number.")]
    public void TryGetStringList_WrongShapes_NamedWithoutTheirValues(string _, string json, string expected)
    {
        RunnerParameters.TryGetStringList(Parse(json), "x", commaSeparated: true, out var value, out var error).ShouldBeFalse();
        value.ShouldBeNull();
        error.ShouldBe(expected);
    }

    [Theory]
    [InlineData("a string stays as it is", """ "a b" """, "a b")]
    [InlineData("a number", """5""", "5")]
    [InlineData("a list as compact JSON", """["a", "b"]""", """["a","b"]""")]
    public void ToText_Values_AsAProcessSeesThem(string _, string json, string expected) =>
        RunnerParameters.ToText(JsonNode.Parse(json)!).ShouldBe(expected);

    [Fact]
    public void StringOf_StringBuiltFromAGuid_IsItsText()
    {
        var id = Guid.Parse("0b3e5a8c-1f29-4d6b-9a57-3c2e8d4f1a60");
        RunnerParameters.StringOf(JsonValue.Create(id)).ShouldBe("0b3e5a8c-1f29-4d6b-9a57-3c2e8d4f1a60");
    }
}
