using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Runners.Processes;

/// <summary>
/// The result of a local process in StackStorm's local runner shape:
/// <c>{ stdout, stderr, return_code, succeeded, failed }</c> (plus <c>error</c> when there is one).
/// </summary>
internal static class ProcessResult
{
    public static JsonObject Build(string stdout, bool stdoutTruncated, string stderr, bool stderrTruncated, int? returnCode, string? error)
    {
        var succeeded = returnCode == 0 && error is null;
        var result = new JsonObject
        {
            ["stdout"] = ParseOutput(StripShellChars(stdout), stdoutTruncated),
            ["stderr"] = ParseOutput(StripShellChars(stderr), stderrTruncated),
            ["return_code"] = returnCode,
            ["succeeded"] = succeeded,
            ["failed"] = !succeeded,
        };
        if (error is not null)
        {
            result["error"] = error;
        }

        return result;
    }

    /// <summary>
    /// Drops one trailing <c>\n</c>, then one trailing <c>\r</c>, as StackStorm's <c>strip_shell_chars</c> does, so
    /// <c>echo hello</c> gives <c>"hello"</c>.
    /// </summary>
    public static string StripShellChars(string text)
    {
        if (text.EndsWith('\n'))
        {
            text = text[..^1];
        }

        if (text.EndsWith('\r'))
        {
            text = text[..^1];
        }

        return text;
    }

    /// <summary>
    /// Output that is a JSON object or array becomes structured data, so workflows can read fields of it; anything
    /// else stays a string. Unlike StackStorm, bare scalars (<c>42</c>, <c>true</c>, <c>1.10</c>) stay strings:
    /// turning a version number into a float surprises more people than it helps.
    /// </summary>
    public static JsonNode? ParseOutput(string text, bool truncated)
    {
        var trimmed = text.AsSpan().Trim();
        if (truncated || trimmed.IsEmpty || !((trimmed[0] == '{' && trimmed[^1] == '}') || (trimmed[0] == '[' && trimmed[^1] == ']')))
        {
            return JsonValue.Create(text);
        }

        try
        {
            return JsonNode.Parse(text) ?? JsonValue.Create(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}
