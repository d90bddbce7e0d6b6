using System.Globalization;

namespace OpsRobot.Integrations.Nagios;

/// <summary>
/// Reads Nagios's status.dat: blocks of <c>type {</c>, <c>key=value</c> lines and <c>}</c>. The file is read line
/// by line and only the blocks OpsRobot uses are kept, so a status file of a hundred thousand services costs one
/// pass and the records it yields, never the text. Whatever does not fit the format (a stray line, a block left
/// open at the end of a truncated file, an unknown block type, a field that is not a number) is skipped, not
/// fatal: a status view with one odd line is still worth showing.
/// </summary>
public static class StatusDataParser
{
    /// <summary>Lines longer than this are skipped: Nagios's own plugin output limit is far below it.</summary>
    public const int MaxLineLength = 1024 * 1024;

    /// <summary>Parses status data from <paramref name="reader"/> to its end.</summary>
    public static async Task<NagiosStatus> ParseAsync(TextReader reader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var hosts = new List<NagiosHostStatus>();
        var services = new List<NagiosServiceStatus>();
        var downtimes = new List<NagiosDowntime>();
        var comments = new List<NagiosComment>();
        DateTimeOffset? written = null;

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        string? block = null;
        var keep = false;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } raw)
        {
            if (raw.Length > MaxLineLength)
            {
                continue;
            }

            var line = raw.AsSpan().Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            if (line[^1] == '{' && line.IndexOf('=') < 0)
            {
                // A new block; one still open is a damaged one and is dropped.
                block = line[..^1].Trim().ToString();
                keep = IsKept(block);
                fields.Clear();
                continue;
            }

            if (line.SequenceEqual("}"))
            {
                if (block is not null && keep)
                {
                    switch (block)
                    {
                        case "info":
                            written = Time(fields, "created");
                            break;
                        case "hoststatus":
                            AddIfNamed(hosts, HostOf(fields));
                            break;
                        case "servicestatus":
                            AddIfNamed(services, ServiceOf(fields));
                            break;
                        case "hostdowntime":
                            AddIfNamed(downtimes, DowntimeOf(fields, service: false));
                            break;
                        case "servicedowntime":
                            AddIfNamed(downtimes, DowntimeOf(fields, service: true));
                            break;
                        case "hostcomment":
                            AddIfNamed(comments, CommentOf(fields, service: false));
                            break;
                        case "servicecomment":
                            AddIfNamed(comments, CommentOf(fields, service: true));
                            break;
                    }
                }

                block = null;
                fields.Clear();
                continue;
            }

            if (block is null || !keep)
            {
                continue;
            }

            var equals = line.IndexOf('=');
            if (equals <= 0)
            {
                continue;
            }

            // The value is everything after the first '=': plugin output and comments may hold '=' themselves.
            fields[line[..equals].TrimEnd().ToString()] = line[(equals + 1)..].ToString();
        }

        return new NagiosStatus(written, hosts, services, downtimes, comments);
    }

    /// <summary>Reads and parses a status file; Nagios replaces it by renaming, so a reader never sees half a write.</summary>
    public static async Task<NagiosStatus> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 64 * 1024,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
        });
        await using (stream.ConfigureAwait(false))
        {
            // Plugin output is bytes, not always UTF-8: undecodable bytes become U+FFFD rather than an error.
            using var reader = new StreamReader(stream, new System.Text.UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024);
            return await ParseAsync(reader, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsKept(string block) => block is "info" or "hoststatus" or "servicestatus" or "hostdowntime" or "servicedowntime" or "hostcomment" or "servicecomment";

    private static void AddIfNamed<T>(List<T> list, T? item)
        where T : class
    {
        if (item is not null)
        {
            list.Add(item);
        }
    }

    private static NagiosHostStatus? HostOf(Dictionary<string, string> f) =>
        Text(f, "host_name") is not { Length: > 0 } name ? null : new NagiosHostStatus(name)
        {
            State = Int(f, "current_state"),
            HasBeenChecked = Flag(f, "has_been_checked", fallback: true),
            IsHardState = Flag(f, "state_type", fallback: true),
            Output = Text(f, "plugin_output") ?? string.Empty,
            LastCheck = Time(f, "last_check"),
            LastStateChange = Time(f, "last_state_change"),
            Acknowledged = Flag(f, "problem_has_been_acknowledged"),
            NotificationsEnabled = Flag(f, "notifications_enabled", fallback: true),
            DowntimeDepth = Int(f, "scheduled_downtime_depth"),
        };

    private static NagiosServiceStatus? ServiceOf(Dictionary<string, string> f) =>
        Text(f, "host_name") is not { Length: > 0 } host || Text(f, "service_description") is not { Length: > 0 } description
            ? null
            : new NagiosServiceStatus(host, description)
            {
                State = Int(f, "current_state"),
                HasBeenChecked = Flag(f, "has_been_checked", fallback: true),
                IsHardState = Flag(f, "state_type", fallback: true),
                Output = Text(f, "plugin_output") ?? string.Empty,
                LastCheck = Time(f, "last_check"),
                LastStateChange = Time(f, "last_state_change"),
                Acknowledged = Flag(f, "problem_has_been_acknowledged"),
                NotificationsEnabled = Flag(f, "notifications_enabled", fallback: true),
                DowntimeDepth = Int(f, "scheduled_downtime_depth"),
            };

    private static NagiosDowntime? DowntimeOf(Dictionary<string, string> f, bool service)
    {
        var host = Text(f, "host_name");
        var description = service ? Text(f, "service_description") : null;
        var id = Long(f, "downtime_id");
        if (string.IsNullOrEmpty(host) || id <= 0 || (service && string.IsNullOrEmpty(description)))
        {
            return null;
        }

        return new NagiosDowntime(id, host, description)
        {
            Start = Time(f, "start_time") ?? DateTimeOffset.UnixEpoch,
            End = Time(f, "end_time") ?? DateTimeOffset.UnixEpoch,
            Fixed = Flag(f, "fixed", fallback: true),
            InEffect = Flag(f, "is_in_effect"),
            Author = Text(f, "author") ?? string.Empty,
            Comment = Text(f, "comment") ?? string.Empty,
        };
    }

    private static NagiosComment? CommentOf(Dictionary<string, string> f, bool service)
    {
        var host = Text(f, "host_name");
        var description = service ? Text(f, "service_description") : null;
        var id = Long(f, "comment_id");
        if (string.IsNullOrEmpty(host) || id <= 0 || (service && string.IsNullOrEmpty(description)))
        {
            return null;
        }

        return new NagiosComment(id, host, description)
        {
            Kind = Int(f, "entry_type") is >= 1 and <= 4 and var kind ? (NagiosCommentKind)kind : NagiosCommentKind.User,
            EntryTime = Time(f, "entry_time") ?? DateTimeOffset.UnixEpoch,
            Author = Text(f, "author") ?? string.Empty,
            Text = Text(f, "comment_data") ?? string.Empty,
        };
    }

    private static string? Text(Dictionary<string, string> f, string key) => f.GetValueOrDefault(key);

    private static int Int(Dictionary<string, string> f, string key) =>
        f.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static long Long(Dictionary<string, string> f, string key) =>
        f.TryGetValue(key, out var v) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static bool Flag(Dictionary<string, string> f, string key, bool fallback = false) =>
        f.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n != 0 : fallback;

    /// <summary>A Unix time; 0 (Nagios's "never") and values out of range are null.</summary>
    private static DateTimeOffset? Time(Dictionary<string, string> f, string key) =>
        f.TryGetValue(key, out var v) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            && seconds > 0 && seconds < 253402300799
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}
