using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;

namespace OpsRobot.Core.Tests.Templates;

/// <summary>
/// Orquesta-style <c>&lt;% %&gt;</c> expressions with YAQL's everyday subset, and the function registry the workflow
/// engine will use for ctx(), result(), succeeded()… (here a ctx() written the way it will be).
/// </summary>
public sealed class TemplateOrquestaTests
{
    private static readonly TemplateRenderer Workflow = CreateWorkflowRenderer();

    private static TemplateRenderer CreateWorkflowRenderer()
    {
        var options = new TemplateOptions();

        // Orquesta's ctx(): the whole workflow context, or one variable of it by name.
        options.Functions.Add("ctx", (call, args) =>
        {
            if (!call.TryGetVariable("__ctx", out var ctx) || ctx is not JsonObject context)
            {
                throw call.Error("ctx() is only available inside a workflow");
            }

            if (args.Count == 0)
            {
                return context;
            }

            var name = args[0]?.GetValue<string>() ?? throw call.Error("ctx() needs a variable name");
            return context.TryGetPropertyValue(name, out var value) ? value : throw call.Error($"ctx: variable '{name}' is not defined");
        });
        options.Functions.Add("succeeded", (_, _) => JsonValue.Create(true));
        return new TemplateRenderer(options);
    }

    private static JsonObject WorkflowContext() => JsonNode.Parse(
        """
        {
          "__ctx": {"x": "a", "hosts": ["h1", "h2"], "n": 2, "vm": {"id": "i-1"}},
          "y": "x"
        }
        """)!.AsObject();

    private static string Render(string template) => Workflow.Render(template, WorkflowContext());

    [Theory]
    [InlineData("the brief's example", "<% ctx(x) = 'a' and len(list(1,2)) = 2 %>", "True")]
    [InlineData("single = is equality", "<% 1 = 1 %> <% 1 = 2 %>", "True False")]
    [InlineData("== also works", "<% ctx(n) == 2 %>", "True")]
    [InlineData("!=", "<% ctx(x) != 'b' %>", "True")]
    [InlineData("and / or / not", "<% not (ctx(n) = 3) or false %>", "True")]
    [InlineData("in", "<% 'h1' in ctx(hosts) %>", "True")]
    [InlineData("ctx() then attributes", "<% ctx().vm.id %>", "i-1")]
    [InlineData("ctx with a quoted name", "<% ctx('n') + 1 %>", "3")]
    [InlineData("null is None", "<% null %> <% ctx(x) = null %>", "None False")]
    [InlineData("str, len and list", "<% str(ctx(n)) ~ '/' ~ len(ctx(hosts)) ~ '/' ~ list(ctx(x), 1) %>", "2/2/['a', 1]")]
    [InlineData("Jinja filters work inside too", "<% ctx(hosts) | join(',') %>", "h1,h2")]
    [InlineData("registered function without arguments", "<% succeeded() and ctx(n) > 1 %>", "True")]
    [InlineData("both syntaxes in one template", "{{ ctx('x') }}<% ctx(x) %>", "aa")]
    public void Render_OrquestaExpressions_Evaluate(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Fact]
    public void Render_BareNameThatIsADefinedVariable_IsTheVariable()
    {
        // y is a variable holding "x", so ctx(y) is ctx('x'): the rule only applies to names that are not defined.
        Render("<% ctx(y) %>").ShouldBe("a");
    }

    [Fact]
    public void Render_BareNameInJinjaSyntax_IsAVariableNotAString()
    {
        var error = Should.Throw<TemplateException>(() => Render("{{ ctx(x) }}"));

        error.Message.ShouldBe("ctx() needs a variable name at line 1, column 4");
    }

    [Fact]
    public void Render_SingleEqualsInJinjaSyntax_IsAnErrorThatSuggestsDoubleEquals()
    {
        var error = Workflow.Check("{{ ctx(x) = 1 }}");

        error.ShouldNotBeNull();
        error.Message.ShouldBe("unexpected '=' at line 1, column 11: compare with '==' (a single '=' compares only inside <% %>)");
    }

    [Fact]
    public void Check_YaqlDollarSyntax_ExplainsItIsNotSupported()
    {
        var error = Workflow.Check("<% $.x %>");

        error.ShouldNotBeNull();
        error.Message.ShouldBe("unexpected character '$' at line 1, column 4: YAQL's '$' is not supported; use a variable name or ctx(name)");
    }

    [Fact]
    public void Evaluate_OrquestaExpression_KeepsTheType()
    {
        var value = Workflow.Evaluate("<% ctx(hosts) %>", WorkflowContext());

        var list = value.ShouldBeOfType<JsonArray>();
        list.Select(n => n!.GetValue<string>()).ShouldBe(["h1", "h2"]);
    }

    [Fact]
    public void Render_RegisteredFunctionError_CarriesThePositionOfTheCall()
    {
        var error = Should.Throw<TemplateException>(() => Workflow.Render("x\n  <% ctx(nope) %>", WorkflowContext()));

        error.Message.ShouldBe("ctx: variable 'nope' is not defined at line 2, column 6");
        (error.Line, error.Column).ShouldBe((2, 6));
    }

    [Fact]
    public void Render_RegisteredFunctionThatThrows_BecomesATemplateErrorWithTheCause()
    {
        var options = new TemplateOptions();
        options.Functions.Add("boom", (_, _) => throw new InvalidOperationException("kaput"));
        var renderer = new TemplateRenderer(options);

        var error = Should.Throw<TemplateException>(() => renderer.Render("{{ boom() }}", new JsonObject()));

        error.Message.ShouldBe("function 'boom' failed at line 1, column 4: kaput");
        error.InnerException.ShouldBeOfType<InvalidOperationException>();
    }

    [Fact]
    public void Render_RegisteredFunction_ReceivesCopiesOfArgumentsAndNamedArguments()
    {
        var options = new TemplateOptions();
        IReadOnlyList<JsonNode?>? seen = null;
        IReadOnlyDictionary<string, JsonNode?>? seenNamed = null;
        options.Functions.Add("probe", (call, args) =>
        {
            seen = args;
            seenNamed = call.NamedArguments;
            ((JsonArray)args[0]!).Add(99);
            return new JsonObject { ["count"] = args.Count, ["name"] = call.FunctionName };
        });
        var renderer = new TemplateRenderer(options);
        var context = new JsonObject { ["xs"] = new JsonArray(1, 2) };

        var text = renderer.Render("{{ probe(xs, missing, 'a', flag=true).count }}", context);

        text.ShouldBe("3");
        seen.ShouldNotBeNull();
        seen[1].ShouldBeNull();
        seen[2]!.GetValue<string>().ShouldBe("a");
        seenNamed!["flag"]!.GetValue<bool>().ShouldBeTrue();
        context["xs"]!.AsArray().Count.ShouldBe(2);
    }

    [Fact]
    public void Render_FunctionReadingALoopVariable_SeesTheLocalValue()
    {
        var options = new TemplateOptions();
        options.Functions.Add("item", (call, _) => call.TryGetVariable("__item", out var v) ? v : null);
        var renderer = new TemplateRenderer(options);

        var text = renderer.Render("{% for __item in ['a', 'b'] %}{{ item() }}{% endfor %}", new JsonObject());

        text.ShouldBe("ab");
    }

    [Theory]
    [InlineData("not an identifier", "my-func")]
    [InlineData("a keyword", "not")]
    [InlineData("a built-in", "range")]
    public void FunctionsAdd_BadName_IsRefused(string row, string name)
    {
        var functions = new TemplateOptions().Functions;

        Should.Throw<ArgumentException>(() => functions.Add(name, (_, _) => null), row);
    }

    [Fact]
    public void FunctionsAdd_SameNameTwice_IsRefused()
    {
        var functions = new TemplateOptions().Functions;
        functions.Add("f", (_, _) => null);

        Should.Throw<ArgumentException>(() => functions.Add("f", (_, _) => null));
        functions.Contains("f").ShouldBeTrue();
        functions.Names.ShouldBe(["f"]);
    }

    [Fact]
    public void Renderer_FunctionAddedAfterCreation_IsNotSeen()
    {
        var options = new TemplateOptions();
        var renderer = new TemplateRenderer(options);
        options.Functions.Add("late", (_, _) => null);

        var error = renderer.Check("{{ late() }}");

        error.ShouldNotBeNull();
        error.Message.ShouldStartWith("unknown function 'late' at line 1, column 4: the functions here are bool(), dict(), float()");
    }
}
