namespace OpsRobot.Integrations.Nagios;

/// <summary>What Nagios says about one host (a <c>hoststatus</c> block of status.dat).</summary>
public sealed record NagiosHostStatus(string Name)
{
    /// <summary>0 UP, 1 DOWN, 2 UNREACHABLE.</summary>
    public int State { get; init; }

    public bool HasBeenChecked { get; init; }

    /// <summary>True for a hard state (the check failed <c>max_check_attempts</c> times), false for a soft one.</summary>
    public bool IsHardState { get; init; }

    public string Output { get; init; } = string.Empty;

    public DateTimeOffset? LastCheck { get; init; }

    public DateTimeOffset? LastStateChange { get; init; }

    public bool Acknowledged { get; init; }

    public bool NotificationsEnabled { get; init; } = true;

    /// <summary>How many downtimes cover it now (0: none).</summary>
    public int DowntimeDepth { get; init; }

    /// <summary>UP, DOWN, UNREACHABLE, or PENDING before the first check.</summary>
    public string StateName => !HasBeenChecked ? "PENDING" : State switch
    {
        0 => "UP",
        1 => "DOWN",
        2 => "UNREACHABLE",
        _ => $"STATE {State}",
    };

    public bool IsProblem => HasBeenChecked && State != 0;
}

/// <summary>What Nagios says about one service (a <c>servicestatus</c> block of status.dat).</summary>
public sealed record NagiosServiceStatus(string Host, string Description)
{
    /// <summary>0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.</summary>
    public int State { get; init; }

    public bool HasBeenChecked { get; init; }

    public bool IsHardState { get; init; }

    public string Output { get; init; } = string.Empty;

    public DateTimeOffset? LastCheck { get; init; }

    public DateTimeOffset? LastStateChange { get; init; }

    public bool Acknowledged { get; init; }

    public bool NotificationsEnabled { get; init; } = true;

    public int DowntimeDepth { get; init; }

    /// <summary>OK, WARNING, CRITICAL, UNKNOWN, or PENDING before the first check.</summary>
    public string StateName => !HasBeenChecked ? "PENDING" : State switch
    {
        0 => "OK",
        1 => "WARNING",
        2 => "CRITICAL",
        3 => "UNKNOWN",
        _ => $"STATE {State}",
    };

    public bool IsProblem => HasBeenChecked && State != 0;
}

/// <summary>A scheduled downtime (a <c>hostdowntime</c> or <c>servicedowntime</c> block).</summary>
/// <param name="Id">Nagios's downtime id, the one <c>DEL_*_DOWNTIME</c> takes.</param>
/// <param name="Host">The host.</param>
/// <param name="Service">The service, or null for a host downtime.</param>
public sealed record NagiosDowntime(long Id, string Host, string? Service)
{
    public DateTimeOffset Start { get; init; }

    public DateTimeOffset End { get; init; }

    public bool Fixed { get; init; } = true;

    public bool InEffect { get; init; }

    public string Author { get; init; } = string.Empty;

    public string Comment { get; init; } = string.Empty;
}

/// <summary>What kind of comment Nagios keeps (<c>entry_type</c>).</summary>
public enum NagiosCommentKind
{
    User = 1,
    Downtime = 2,
    Flapping = 3,
    Acknowledgement = 4,
}

/// <summary>A comment on a host or service (a <c>hostcomment</c> or <c>servicecomment</c> block).</summary>
public sealed record NagiosComment(long Id, string Host, string? Service)
{
    public NagiosCommentKind Kind { get; init; } = NagiosCommentKind.User;

    public DateTimeOffset EntryTime { get; init; }

    public string Author { get; init; } = string.Empty;

    public string Text { get; init; } = string.Empty;
}

/// <summary>One reading of status.dat: hosts, services, downtimes and comments, as Nagios last wrote them.</summary>
public sealed class NagiosStatus
{
    private readonly Dictionary<string, NagiosHostStatus> _hosts;
    private readonly Dictionary<(string Host, string Service), NagiosServiceStatus> _services;
    private readonly ILookup<string, NagiosServiceStatus> _servicesByHost;

    public NagiosStatus(
        DateTimeOffset? written,
        IEnumerable<NagiosHostStatus> hosts,
        IEnumerable<NagiosServiceStatus> services,
        IEnumerable<NagiosDowntime> downtimes,
        IEnumerable<NagiosComment> comments)
    {
        Written = written;

        // Last one wins: status.dat never repeats an object, but a hand-made or damaged file might.
        _hosts = new Dictionary<string, NagiosHostStatus>(StringComparer.Ordinal);
        foreach (var host in hosts)
        {
            _hosts[host.Name] = host;
        }

        _services = [];
        foreach (var service in services)
        {
            _services[(service.Host, service.Description)] = service;
        }

        _servicesByHost = _services.Values.ToLookup(s => s.Host, StringComparer.Ordinal);
        Downtimes = [.. downtimes.OrderBy(d => d.Id)];
        Comments = [.. comments.OrderBy(c => c.Id)];
    }

    /// <summary>When Nagios wrote the file (<c>info.created</c>), when it says.</summary>
    public DateTimeOffset? Written { get; }

    public IReadOnlyCollection<NagiosHostStatus> Hosts => _hosts.Values;

    public IReadOnlyCollection<NagiosServiceStatus> Services => _services.Values;

    public IReadOnlyList<NagiosDowntime> Downtimes { get; }

    public IReadOnlyList<NagiosComment> Comments { get; }

    public NagiosHostStatus? FindHost(string name) => _hosts.GetValueOrDefault(name);

    public NagiosServiceStatus? FindService(string host, string description) => _services.GetValueOrDefault((host, description));

    public IEnumerable<NagiosServiceStatus> ServicesOf(string host) => _servicesByHost[host];

    public IEnumerable<NagiosDowntime> DowntimesOf(string host, string? service) =>
        Downtimes.Where(d => string.Equals(d.Host, host, StringComparison.Ordinal) && string.Equals(d.Service, service, StringComparison.Ordinal));

    /// <summary>The newest acknowledgement comment of a host or service: who acknowledged it and why.</summary>
    public NagiosComment? AcknowledgementOf(string host, string? service) =>
        Comments.LastOrDefault(c => c.Kind == NagiosCommentKind.Acknowledgement
            && string.Equals(c.Host, host, StringComparison.Ordinal)
            && string.Equals(c.Service, service, StringComparison.Ordinal));

    public NagiosDowntime? FindDowntime(long id) => Downtimes.FirstOrDefault(d => d.Id == id);
}
