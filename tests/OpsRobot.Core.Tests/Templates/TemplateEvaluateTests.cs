using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;
using static OpsRobot.Core.Tests.Templates.TemplateTestData;

namespace OpsRobot.Core.Tests.Templates;

/// <summary>Evaluate: a field that is one expression keeps its JSON type; anything else is rendered text.</summary>
public sealed class TemplateEvaluateTests
{
    [Fact]
    public void Evaluate_SingleExpressionList_ReturnsAJsonArray()
    {
        var value = Renderer.Evaluate("{{ xs }}", Context());

        value.ShouldBeOfType<JsonArray>().Select(n => n!.GetValue<int>()).ShouldBe([1, 2, 3]);
    }

    [Theory]
    [InlineData("integer", "{{ count }}", 3L)]
    [InlineData("computed integer", "{{ count * 2 }}", 6L)]
    [InlineData("Orquesta delimiters with spaces around", "  <% count %>\n", 3L)]
    [InlineData("length filter", "{{ xs | length }}", 3L)]
    public void Evaluate_SingleIntegerExpression_ReturnsANumberReadableAsAnyIntegerType(string row, string field, long expected)
    {
        var value = Renderer.Evaluate(field, Context());

        var number = value.ShouldBeAssignableTo<JsonValue>(row)!;
        number.GetValueKind().ShouldBe(System.Text.Json.JsonValueKind.Number, row);
        number.GetValue<long>().ShouldBe(expected, row);
        number.GetValue<int>().ShouldBe((int)expected, row);
        number.GetValue<double>().ShouldBe(expected, row);
    }

    [Fact]
    public void Evaluate_Float_ReturnsADouble()
    {
        Renderer.Evaluate("{{ 7 / 2 }}", Context())!.GetValue<double>().ShouldBe(3.5);
        Renderer.Evaluate("{{ ratio }}", Context())!.ToJsonString().ShouldBe("1.5");
    }

    [Theory]
    [InlineData("true", "{{ flag }}", true)]
    [InlineData("comparison", "{{ count > 5 }}", false)]
    [InlineData("test", "<% app is defined %>", true)]
    public void Evaluate_Boolean_ReturnsABoolean(string row, string field, bool expected)
    {
        Renderer.Evaluate(field, Context())!.GetValue<bool>().ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("none", "{{ nothing }}")]
    [InlineData("undefined", "{{ missing }}")]
    [InlineData("attribute of undefined", "{{ missing.a }}")]
    public void Evaluate_NoneOrUndefined_ReturnsNull(string row, string field)
    {
        Renderer.Evaluate(field, Context()).ShouldBeNull(row);
    }

    [Fact]
    public void Evaluate_Object_ReturnsADeepCopyTheCallerMayChange()
    {
        var context = Context();

        var value = Renderer.Evaluate("{{ execution.result }}", context).ShouldBeOfType<JsonObject>();
        value["stdout"] = "changed";
        value["hosts"]!.AsArray()[0]!["name"] = "changed";
        var other = new JsonObject { ["attached"] = value };

        context["execution"]!["result"]!["stdout"]!.GetValue<string>().ShouldBe("done");
        context["execution"]!["result"]!["hosts"]![0]!["name"]!.GetValue<string>().ShouldBe("web1");
        other["attached"].ShouldBeSameAs(value);
    }

    [Fact]
    public void Evaluate_BuiltDict_ReturnsAJsonObjectInOrder()
    {
        var value = Renderer.Evaluate("{{ {'b': [1, 'x'], 'a': none} }}", Context());

        value!.ToJsonString().ShouldBe("{\"b\":[1,\"x\"],\"a\":null}");
    }

    [Theory]
    [InlineData("text around an expression", "Deploying {{ app }}!", "Deploying web!")]
    [InlineData("two expressions", "{{ count }}{{ count }}", "33")]
    [InlineData("a block", "{% if flag %}{{ count }}{% endif %}", "3")]
    [InlineData("no delimiters", "just text", "just text")]
    [InlineData("string expression", "{{ app }}", "web")]
    [InlineData("empty field", "", "")]
    public void Evaluate_NotOneExpression_ReturnsTheRenderedString(string row, string field, string expected)
    {
        var value = Renderer.Evaluate(field, Context());

        value.ShouldBeAssignableTo<JsonValue>(row)!.GetValue<string>().ShouldBe(expected, row);
    }

    [Fact]
    public void Evaluate_NonFiniteNumber_IsAnErrorNotInvalidJson()
    {
        var error = Should.Throw<TemplateException>(() => Renderer.Evaluate("{{ 'inf' | float }}", Context()));

        error.Message.ShouldBe("inf cannot be represented in JSON at line 1, column 12");
    }

    [Fact]
    public void Evaluate_StrictUndefined_IsAnError()
    {
        var strict = new TemplateRenderer(new TemplateOptions { StrictUndefined = true });

        var error = Should.Throw<TemplateException>(() => strict.Evaluate("{{ missing }}", new JsonObject()));

        error.Message.ShouldBe("'missing' is undefined at line 1, column 4");
    }
}
