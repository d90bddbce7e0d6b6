using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Cmdb;

/// <summary>The formats hosts are imported from and exported to.</summary>
public enum HostFileFormat
{
    Csv,
    Json,
}

/// <summary>
/// Reads and writes host files. CSV (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes) has the
/// header <c>hostname,addresses,environment,application,tags,owner,status</c> and then one <c>attr.NAME</c> column
/// per attribute; lists are <c>;</c>-separated. JSON is an array of host objects (or <c>{"hosts": [...]}</c>)
/// with the same field names and <c>attributes</c> as an object. Problems name the line they are on; the reader
/// goes on after a bad line so one import reports every problem at once.
/// </summary>
public static class HostFiles
{
    public static IReadOnlyList<string> CsvColumns { get; } = ["hostname", "addresses", "environment", "application", "tags", "owner", "status"];

    public const string AttributePrefix = "attr.";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static bool TryParseFormat(string? text, out HostFileFormat format)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "csv":
                format = HostFileFormat.Csv;
                return true;
            case "json":
                format = HostFileFormat.Json;
                return true;
            default:
                format = default;
                return false;
        }
    }

    /// <summary>Reads hosts from <paramref name="text"/>: the hosts it could read, and every problem with its line.</summary>
    public static (IReadOnlyList<ImportedHost> Hosts, IReadOnlyList<ImportProblem> Problems) Read(string text, HostFileFormat format, int maxHosts)
    {
        ArgumentNullException.ThrowIfNull(text);
        return format == HostFileFormat.Json ? ReadJson(text, maxHosts) : ReadCsv(text, maxHosts);
    }

    public static string Write(IEnumerable<HostRecord> hosts, HostFileFormat format)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        return format == HostFileFormat.Json ? WriteJson(hosts) : WriteCsv(hosts);
    }

    /// <summary>A host as JSON, the shape the API and the JSON files use.</summary>
    public static JsonObject ToJson(HostRecord host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var attributes = new JsonObject();
        foreach (var (key, value) in host.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            attributes[key] = value;
        }

        return new JsonObject
        {
            ["hostname"] = host.Hostname,
            ["addresses"] = new JsonArray([.. host.Addresses.Select(a => JsonValue.Create(a))]),
            ["environment"] = host.Environment,
            ["application"] = host.Application,
            ["tags"] = new JsonArray([.. host.Tags.Select(t => JsonValue.Create(t))]),
            ["owner"] = host.Owner,
            ["status"] = host.Status,
            ["attributes"] = attributes,
        };
    }

    /// <summary>
    /// A host from a JSON object, as the API and JSON files send it. Unknown fields and values of the wrong type are
    /// problems (returned, worded for the sender); rules on the values themselves are <see cref="HostRules"/>'.
    /// </summary>
    public static (HostRecord? Host, IReadOnlyList<string> Problems) FromJson(JsonNode? node, string? hostname = null)
    {
        var problems = new List<string>();
        if (node is not JsonObject obj)
        {
            return (null, ["a host must be a JSON object"]);
        }

        foreach (var (key, _) in obj)
        {
            if (key is not ("hostname" or "addresses" or "environment" or "application" or "tags" or "owner" or "status" or "attributes"))
            {
                problems.Add($"unknown field '{Cut(key)}' (fields are hostname, addresses, environment, application, tags, owner, status, attributes)");
            }
        }

        var name = Text(obj, "hostname", problems);
        if (hostname is not null)
        {
            if (name is not null && !string.Equals(name.Trim(), hostname, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"the body names host '{Cut(name)}' but the address names '{Cut(hostname)}'");
            }

            name = hostname;
        }

        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (obj["attributes"])
        {
            case null:
                break;
            case JsonObject map:
                foreach (var (key, value) in map)
                {
                    if (value is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                    {
                        attributes[key] = v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
                    }
                    else if (value is not null)
                    {
                        problems.Add($"attribute '{Cut(key)}' must be a string, number or boolean");
                    }
                }

                break;
            default:
                problems.Add("attributes must be an object of names to values");
                break;
        }

        var host = new HostRecord(name ?? string.Empty, List(obj, "addresses", problems), Text(obj, "environment", problems), Text(obj, "application", problems),
            List(obj, "tags", problems), Text(obj, "owner", problems), Text(obj, "status", problems) ?? string.Empty, attributes);
        return problems.Count > 0 ? (null, problems) : (host, problems);
    }

    private static (IReadOnlyList<ImportedHost>, IReadOnlyList<ImportProblem>) ReadCsv(string text, int maxHosts)
    {
        var hosts = new List<ImportedHost>();
        var problems = new List<ImportProblem>();
        List<string>? header = null;
        foreach (var (line, fields, problem) in CsvRecords(text))
        {
            if (problem is not null)
            {
                problems.Add(new ImportProblem(line, problem));
                break; // after an unterminated quote nothing further can be trusted
            }

            if (fields.Count == 1 && fields[0].Length == 0)
            {
                continue; // blank line
            }

            if (header is null)
            {
                header = [.. fields.Select(f => f.Trim().ToLowerInvariant())];
                if (HeaderProblem(header) is { } bad)
                {
                    problems.Add(new ImportProblem(line, bad));
                    return (hosts, problems);
                }

                continue;
            }

            if (fields.Count != header.Count)
            {
                problems.Add(new ImportProblem(line, string.Create(CultureInfo.InvariantCulture, $"{fields.Count} fields where the header has {header.Count}")));
                continue;
            }

            if (hosts.Count >= maxHosts)
            {
                problems.Add(new ImportProblem(line, string.Create(CultureInfo.InvariantCulture, $"more than {maxHosts} hosts in one file; split it")));
                break;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < header.Count; i++)
            {
                if (header[i].StartsWith(AttributePrefix, StringComparison.Ordinal))
                {
                    attributes[header[i][AttributePrefix.Length..]] = Unescape(fields[i]);
                }
                else
                {
                    values[header[i]] = Unescape(fields[i]);
                }
            }

            var given = header.ToHashSet(StringComparer.Ordinal);
            hosts.Add(new ImportedHost(line, new HostRecord(
                values.GetValueOrDefault("hostname", string.Empty),
                Split(values.GetValueOrDefault("addresses")),
                values.GetValueOrDefault("environment"),
                values.GetValueOrDefault("application"),
                Split(values.GetValueOrDefault("tags")),
                values.GetValueOrDefault("owner"),
                values.GetValueOrDefault("status", string.Empty),
                attributes), given));
        }

        if (header is null && problems.Count == 0)
        {
            problems.Add(new ImportProblem(1, "the file is empty; it needs a header row: " + string.Join(',', CsvColumns)));
        }

        return (hosts, problems);
    }

    private static string? HeaderProblem(List<string> header)
    {
        if (!header.Contains("hostname"))
        {
            return "the header has no 'hostname' column; it is " + string.Join(',', CsvColumns) + ", then attr.NAME columns";
        }

        foreach (var column in header)
        {
            if (!CsvColumns.Contains(column, StringComparer.Ordinal) && !(column.StartsWith(AttributePrefix, StringComparison.Ordinal) && column.Length > AttributePrefix.Length))
            {
                return $"unknown column '{Cut(column)}': columns are {string.Join(',', CsvColumns)}, then attr.NAME for attributes";
            }
        }

        if (header.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            return $"column '{Cut(twice.Key)}' appears twice";
        }

        return null;
    }

    /// <summary>RFC 4180 records with the line each starts on; a record's problem ends the reading.</summary>
    internal static IEnumerable<(int Line, List<string> Fields, string? Problem)> CsvRecords(string text)
    {
        var line = 1;
        var i = 0;
        while (i < text.Length)
        {
            var start = line;
            var fields = new List<string>();
            var field = new StringBuilder();
            var quoted = false;
            var wasQuoted = false;
            string? problem = null;
            var ended = false;
            while (i < text.Length && !ended)
            {
                var c = text[i];
                if (quoted)
                {
                    if (c == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }

                        quoted = false;
                        i++;
                        continue;
                    }

                    if (c == '\n')
                    {
                        line++;
                    }

                    field.Append(c);
                    i++;
                    continue;
                }

                switch (c)
                {
                    case '"' when field.Length == 0 && !wasQuoted:
                        quoted = true;
                        wasQuoted = true;
                        i++;
                        break;
                    case '"':
                        problem = "a quote inside an unquoted field; quote the whole field and double the quote (\"\")";
                        i = text.Length;
                        break;
                    case ',':
                        fields.Add(field.ToString());
                        field.Clear();
                        wasQuoted = false;
                        i++;
                        break;
                    case '\r' when i + 1 < text.Length && text[i + 1] == '\n':
                        i++;
                        break;
                    case '\n' or '\r':
                        ended = true;
                        line++;
                        i++;
                        break;
                    default:
                        if (wasQuoted)
                        {
                            problem = "text after a closing quote; quote the whole field";
                            i = text.Length;
                            break;
                        }

                        field.Append(c);
                        i++;
                        break;
                }
            }

            if (quoted)
            {
                problem = "a quoted field is never closed";
            }

            fields.Add(field.ToString());
            yield return (start, fields, problem);
            if (problem is not null)
            {
                yield break;
            }
        }
    }

    private static (IReadOnlyList<ImportedHost>, IReadOnlyList<ImportProblem>) ReadJson(string text, int maxHosts)
    {
        var hosts = new List<ImportedHost>();
        var problems = new List<ImportProblem>();
        var bytes = Encoding.UTF8.GetBytes(text);
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 16 });
            if (!reader.Read())
            {
                return (hosts, [new ImportProblem(1, "the file is empty; it must be a JSON array of hosts")]);
            }

            if (reader.TokenType == JsonTokenType.StartObject)
            {
                // {"hosts": [...]}: find the array and go on from there.
                var found = false;
                while (reader.Read() && reader.CurrentDepth >= 1)
                {
                    if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("hosts"u8))
                    {
                        reader.Read();
                        found = reader.TokenType == JsonTokenType.StartArray;
                        break;
                    }

                    if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }

                if (!found)
                {
                    return (hosts, [new ImportProblem(1, "the file must be a JSON array of hosts, or an object with a \"hosts\" array")]);
                }
            }
            else if (reader.TokenType != JsonTokenType.StartArray)
            {
                return (hosts, [new ImportProblem(LineAt(bytes, reader.TokenStartIndex), "the file must be a JSON array of hosts, or an object with a \"hosts\" array")]);
            }

            // Lines are counted on from the last host, not from the start of the file for each host.
            var counted = (Index: 0L, Line: 1);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                counted = (reader.TokenStartIndex, counted.Line + LinesBetween(bytes, counted.Index, reader.TokenStartIndex));
                var line = counted.Line;
                var node = JsonNode.Parse(ref reader);
                if (hosts.Count >= maxHosts)
                {
                    problems.Add(new ImportProblem(line, string.Create(CultureInfo.InvariantCulture, $"more than {maxHosts} hosts in one file; split it")));
                    break;
                }

                var (host, hostProblems) = FromJson(node);
                if (host is null)
                {
                    problems.AddRange(hostProblems.Select(p => new ImportProblem(line, p)));
                }
                else
                {
                    hosts.Add(new ImportedHost(line, host, ((JsonObject)node!).Select(p => p.Key).ToHashSet(StringComparer.Ordinal)));
                }
            }
        }
        catch (JsonException ex)
        {
            var line = ex.LineNumber is { } l ? (int)l + 1 : 0;
            problems.Add(new ImportProblem(line, "not valid JSON: " + FirstSentence(ex.Message)));
        }

        return (hosts, problems);
    }

    private static int LineAt(byte[] bytes, long index) => 1 + LinesBetween(bytes, 0, index);

    private static int LinesBetween(byte[] bytes, long from, long to)
    {
        var start = (int)Math.Min(from, bytes.Length);
        return bytes.AsSpan(start, (int)Math.Min(to, bytes.Length) - start).Count((byte)'\n');
    }

    private static string WriteCsv(IEnumerable<HostRecord> hosts)
    {
        var list = hosts.ToList();
        var attributeKeys = list.SelectMany(h => h.Attributes.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var sb = new StringBuilder();
        sb.AppendJoin(',', CsvColumns.Concat(attributeKeys.Select(k => AttributePrefix + k)).Select(Quote)).Append("\r\n");
        foreach (var h in list)
        {
            IEnumerable<string> cells =
            [
                h.Hostname, string.Join(';', h.Addresses), h.Environment ?? string.Empty, h.Application ?? string.Empty,
                string.Join(';', h.Tags), h.Owner ?? string.Empty, h.Status,
                .. attributeKeys.Select(k => h.Attributes.GetValueOrDefault(k) ?? string.Empty),
            ];
            sb.AppendJoin(',', cells.Select(Quote)).Append("\r\n");
        }

        return sb.ToString();
    }

    private static string WriteJson(IEnumerable<HostRecord> hosts) =>
        new JsonArray([.. hosts.Select(ToJson)]).ToJsonString(Indented) + "\n";

    private static readonly SearchValues<char> NeedsQuotes = SearchValues.Create(",\"\r\n;");

    /// <summary>
    /// RFC 4180 quoting, plus the guard against spreadsheet formulas (OWASP's "CSV injection"): quoting alone does
    /// not stop a spreadsheet from evaluating <c>=HYPERLINK(…)</c>, so a cell that starts like a formula
    /// (<c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a carriage return) gets a leading <c>'</c>, which
    /// spreadsheets take as "this is text", and is quoted. <see cref="Unescape"/> takes the <c>'</c> off again on
    /// import, so export → edit → import keeps the value; a value that itself starts with <c>'</c> followed by such
    /// a character (or another <c>'</c>) gets one more, so that round-trips too.
    /// </summary>
    private static string Quote(string value)
    {
        var escaped = StartsLikeFormula(value) || (value.Length > 1 && value[0] == '\'' && (value[1] == '\'' || StartsLikeFormula(value[1..])))
            ? "'" + value
            : value;
        return escaped.AsSpan().IndexOfAny(NeedsQuotes) >= 0 || escaped != value || (value.Length > 0 && (value[0] == ' ' || value[^1] == ' '))
            ? "\"" + escaped.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : escaped;
    }

    /// <summary>The value an exported cell stands for: <see cref="Quote"/>'s leading <c>'</c> removed.</summary>
    private static string Unescape(string cell) =>
        cell.Length > 1 && cell[0] == '\'' && (cell[1] == '\'' || StartsLikeFormula(cell[1..])) ? cell[1..] : cell;

    private static bool StartsLikeFormula(string value) => value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r';

    private static List<string> Split(string? list) =>
        string.IsNullOrWhiteSpace(list) ? [] : [.. list.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    private static string? Text(JsonObject obj, string name, List<string> problems)
    {
        switch (obj[name])
        {
            case null:
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return v.GetValue<string>();
            default:
                problems.Add($"{name} must be a string");
                return null;
        }
    }

    private static List<string> List(JsonObject obj, string name, List<string> problems)
    {
        switch (obj[name])
        {
            case null:
                return [];
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return Split(v.GetValue<string>().Replace(',', ';'));
            case JsonArray array:
                var items = new List<string>();
                foreach (var item in array)
                {
                    if (item is JsonValue s && s.GetValueKind() == JsonValueKind.String)
                    {
                        items.Add(s.GetValue<string>());
                    }
                    else
                    {
                        problems.Add($"{name} must be a list of strings");
                        return [];
                    }
                }

                return items;
            default:
                problems.Add($"{name} must be a list of strings");
                return [];
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static string Cut(string text) => text.Length > 60 ? text[..60] + "…" : text;
}
