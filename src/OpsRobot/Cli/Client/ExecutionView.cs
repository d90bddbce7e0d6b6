using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using OpsRobot.Core.Executions;

namespace OpsRobot.Cli.Client;

/// <summary>
/// An <c>execution</c> as docs/api.md describes it, read leniently: fields this client does not know are ignored,
/// and the whole answer is kept (<see cref="Raw"/>) for <c>--json</c>.
/// </summary>
internal sealed record ExecutionView
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public long Id { get; init; }

    public string? Action { get; init; }

    public string? RunnerType { get; init; }

    public string? Status { get; init; }

    public JsonElement? Parameters { get; init; }

    public JsonElement? Result { get; init; }

    public int? ExitCode { get; init; }

    public string? Error { get; init; }

    public JsonElement? Requester { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public double? ElapsedSeconds { get; init; }

    public long? ParentId { get; init; }

    public long? RetryOf { get; init; }

    public int? Attempt { get; init; }

    /// <summary>The answer as the server sent it.</summary>
    public JsonElement Raw { get; private init; }

    /// <summary>Succeeded, failed, timeout, canceled or abandoned: it will not change any more.</summary>
    public bool IsFinished => ExecutionStatuses.TryParseWire(Status, out var status) && status.IsFinished();

    /// <summary>Reads an execution; an answer without an id and a status is not one and throws.</summary>
    public static ExecutionView From(JsonElement json, string what)
    {
        ExecutionView? view;
        try
        {
            view = json.ValueKind == JsonValueKind.Object ? json.Deserialize<ExecutionView>(Options) : null;
        }
        catch (JsonException ex)
        {
            throw new UnexpectedAnswerException($"{what} is not an execution as docs/api.md describes it: {OpsRobotClient.OneLine(ex.Message)}", ex);
        }

        if (view is null || view.Id <= 0 || string.IsNullOrEmpty(view.Status))
        {
            throw new UnexpectedAnswerException($"{what} is not an execution (no id or status).");
        }

        return view with { Raw = json.Clone() };
    }

    /// <summary>How <c>run</c> and <c>tail</c> end for this (finished) execution.</summary>
    public int ToExitCode() => Status switch
    {
        "succeeded" => ExitCodes.Succeeded,
        "timeout" => ExitCodes.Timeout,
        "canceled" or "abandoned" => ExitCodes.Canceled,
        _ => ExitCodes.Failed,
    };

    /// <summary>The closing line of <c>run</c> and <c>tail</c>: <c>execution 42 succeeded in 1.3s</c>, with the error when there is one.</summary>
    public string Summary()
    {
        var took = ElapsedSeconds is { } s ? Text.Duration(s) : null;
        var head = Status switch
        {
            "succeeded" => took is null ? "succeeded" : $"succeeded in {took}",
            "failed" => (took is null ? "failed" : $"failed in {took}") + (ExitCode is { } code ? Text.Invariant($" (exit code {code})") : string.Empty),
            "timeout" => took is null ? "timed out" : $"timed out after {took}",
            "canceled" => took is null ? "was canceled" : $"was canceled after {took}",
            "abandoned" => "was abandoned",
            _ => $"is {Status}",
        };
        var error = string.IsNullOrWhiteSpace(Error) ? string.Empty : ": " + OpsRobotClient.OneLine(Error);
        return Text.Invariant($"execution {Id} {head}{error}");
    }

    /// <summary>Who asked: <c>alice via chat (web, room ops)</c>, <c>local via api (127.0.0.1)</c>.</summary>
    public string RequesterText(bool withDetails)
    {
        if (Requester is not { ValueKind: JsonValueKind.Object } r)
        {
            return "-";
        }

        var user = Text.Field(r, "userName") ?? "?";
        var door = Text.Field(r, "door");
        var text = door is null ? user : $"{user} via {door.ToLowerInvariant()}";
        if (!withDetails)
        {
            return text;
        }

        var details = new List<string>();
        if (Text.Field(r, "platform") is { } platform)
        {
            details.Add(platform);
        }

        if (Text.Field(r, "roomName") is { } room)
        {
            details.Add($"room {room}");
        }

        if (Text.Field(r, "aliasRef") is { } alias)
        {
            details.Add($"alias {alias}");
        }

        if (Text.Field(r, "address") is { } address)
        {
            details.Add($"from {address}");
        }

        return details.Count == 0 ? text : $"{text} ({string.Join(", ", details)})";
    }
}

/// <summary>Small text helpers for the client verbs' output.</summary>
internal static class Text
{
    // Relaxed escaping: this JSON goes to a terminal or a pipe, never into HTML, and "it's" reads better than "it\u0027s".
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    /// <summary>1.3s, 2m03s, 1h02m: short enough for a table, exact enough for a person.</summary>
    public static string Duration(double seconds)
    {
        // Beyond a few decades the number is a server bug, not a duration worth formatting (or overflowing on).
        if (!double.IsFinite(seconds) || seconds < 0 || seconds > 1e9)
        {
            return "-";
        }

        if (seconds < 60)
        {
            return seconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
        }

        var whole = (long)seconds;
        return whole < 3600
            ? Invariant($"{whole / 60}m{whole % 60:00}s")
            : Invariant($"{whole / 3600}h{whole % 3600 / 60:00}m");
    }

    /// <summary>A point in time in this machine's time zone, to the second.</summary>
    public static string Time(DateTimeOffset? at)
    {
        if (at is not { } t)
        {
            return "-";
        }

        try
        {
            return t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        }
        catch (ArgumentOutOfRangeException)
        {
            // A date at the very edge of the calendar cannot move to this time zone; show it as sent.
            return t.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>A string field, or the text of a number/boolean field (so a number where a name was expected still shows).</summary>
    public static string? Field(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() is { Length: > 0 } s ? OpsRobotClient.OneLine(s) : null,
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => null,
        } : null;

    /// <summary>A value for one line: strings as they are (control characters escaped), anything else as JSON.</summary>
    public static string Value(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() is { } s && !s.Any(char.IsControl) ? s : value.GetRawText(),
        _ => value.GetRawText(),
    };

    /// <summary>JSON laid out for reading, every line indented by <paramref name="indent"/>.</summary>
    public static string Pretty(JsonElement value, string indent = "")
    {
        var text = JsonSerializer.Serialize(value, Indented);
        return indent.Length == 0 ? text : indent + text.Replace("\n", "\n" + indent, StringComparison.Ordinal);
    }

    /// <summary>Rows as columns aligned with two spaces between them; the last column is not padded.</summary>
    public static string Table(IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = header.Select(h => h.Length).ToArray();
        foreach (var row in rows)
        {
            for (var i = 0; i < widths.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        var sb = new System.Text.StringBuilder();
        foreach (var row in rows.Prepend(header))
        {
            for (var i = 0; i < widths.Length; i++)
            {
                var last = i == widths.Length - 1;
                sb.Append(last ? row[i] : row[i].PadRight(widths[i] + 2));
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }
}
