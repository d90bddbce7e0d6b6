using System.Diagnostics;
using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;
using OpsRobot.Testing;
using static OpsRobot.Core.Tests.Templates.TemplateTestData;

namespace OpsRobot.Core.Tests.Templates;

/// <summary>
/// Shell escaping, proved with a real /bin/sh: every value printed by an expression reaches the command as exactly
/// one word with exactly its characters, and nothing in it runs.
/// </summary>
public sealed class TemplateShellEscapeTests : IDisposable
{
    private readonly TempDirectory _dir = new("opsrobot-shell-escape");

    public void Dispose() => _dir.Dispose();

    /// <summary>Runs <c>/bin/sh -c <paramref name="commandLine"/></c> and returns what it printed.</summary>
    private static string RunShell(string commandLine)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(commandLine);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit(10_000).ShouldBeTrue("the shell did not finish");
        stderr.Result.ShouldBeEmpty();
        return stdout.Result;
    }

    public static TheoryData<string, string> HostileValues() => new()
    {
        { "command substitution", "$(touch {dir}/dollar)" },
        { "backticks", "`touch {dir}/backtick`" },
        { "command separator", "; touch {dir}/semicolon" },
        { "and-list", "x && touch {dir}/and" },
        { "pipe", "| touch {dir}/pipe" },
        { "redirection", "> {dir}/redirect" },
        { "newline then a command", "a\ntouch {dir}/newline" },
        { "single quotes", "it's 'quoted'" },
        { "closing the quote", "'; touch {dir}/quote; echo '" },
        { "double quotes", "\"$(touch {dir}/dq)\"" },
        { "backslashes", "back\\slash\\' \\\\" },
        { "glob", "*" },
        { "glob in the folder", "{dir}/*" },
        { "variables", "$HOME ${PATH} $0" },
        { "tilde", "~ ~root" },
        { "spaces and tabs", "  two  words\there  " },
        { "looks like an option", "--help" },
        { "history and braces", "!! {a,b} [x]" },
        { "empty", "" },
        { "unicode", "héllo – 日本" },
    };

    [Theory]
    [MemberData(nameof(HostileValues))]
    public void RenderShell_HostileValue_ReachesTheCommandAsExactlyOneWord(string row, string pattern)
    {
        var value = pattern.Replace("{dir}", _dir.Path, StringComparison.Ordinal);
        var context = new JsonObject { ["v"] = value };

        var commandLine = Renderer.Render("printf '[%s]\\n' {{ v }}", context, TemplateEscape.Shell);
        var output = RunShell(commandLine);

        output.ShouldBe("[" + value + "]\n", row);
        Directory.EnumerateFileSystemEntries(_dir.Path).ShouldBeEmpty(row);
    }

    [Fact]
    public void RenderShell_LoopOverValues_QuotesEachAsItsOwnWord()
    {
        var context = new JsonObject { ["hosts"] = new JsonArray("web 1", "$(id)", "a'b") };

        var commandLine = Renderer.Render("printf '[%s]' {% for h in hosts %}{{ h }} {% endfor %}", context, TemplateEscape.Shell);

        RunShell(commandLine).ShouldBe("[web 1][$(id)][a'b]");
    }

    [Fact]
    public void RenderShell_LiteralTemplateText_IsLeftForTheShell()
    {
        var context = new JsonObject { ["name"] = "x; echo pwned" };

        var commandLine = Renderer.Render("echo one | tr a-z A-Z; printf '%s\\n' {{ name }}", context, TemplateEscape.Shell);

        commandLine.ShouldBe("echo one | tr a-z A-Z; printf '%s\\n' 'x; echo pwned'");
        RunShell(commandLine).ShouldBe("ONE\nx; echo pwned\n");
    }

    [Theory]
    [InlineData("number", "{{ 42 }}", "'42'")]
    [InlineData("undefined becomes an empty word", "{{ missing }}", "''")]
    [InlineData("a list is one word of its text", "{{ xs }}", "'[1, 2, 3]'")]
    [InlineData("a filter's result is quoted too", "{{ app | upper }}", "'WEB'")]
    [InlineData("Orquesta delimiters are quoted too", "<% app %>", "'web'")]
    [InlineData("a single quote in the value", "{{ \"it's\" }}", "'it'\\''s'")]
    [InlineData("a captured block is quoted once, when printed", "{% set c %}{{ app }} {{ env }}{% endset %}{{ c }}", "'web prod'")]
    [InlineData("values inside set are not quoted until printed", "{% set c = app ~ ' ' ~ env %}{{ c }}", "'web prod'")]
    public void RenderShell_Values_AreQuotedOnceAndTextIsNot(string row, string template, string expected)
    {
        Renderer.Render(template, Context(), TemplateEscape.Shell).ShouldBe(expected, row);
    }

    [Fact]
    public void RenderNone_SameTemplate_IsNotQuoted()
    {
        Renderer.Render("echo {{ app }}", Context()).ShouldBe("echo web");
        Renderer.Render("echo {{ app }}", Context(), TemplateEscape.Shell).ShouldBe("echo 'web'");
    }
}
