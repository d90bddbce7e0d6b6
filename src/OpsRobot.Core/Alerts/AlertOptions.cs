namespace OpsRobot.Core.Alerts;

/// <summary>
/// <c>OpsRobot:Alerts</c>: where alerts are posted and how the rooms are kept from being flooded. Rooms are written
/// <c>platform:room</c> (<c>web:ops</c>, <c>irc:#db</c>, <c>slack:C024BE7LH</c>).
/// </summary>
public sealed class AlertOptions
{
    /// <summary>The room for alerts no route claims; empty: such alerts stay on the board only.</summary>
    public string? DefaultRoom { get; set; }

    /// <summary>Routes, each by application-tree node or by labels. An alert goes to every room whose route matches.</summary>
    public IList<AlertRoute> Routes { get; } = [];

    /// <summary>How long alerts for one room are gathered into one message.</summary>
    public TimeSpan GroupWindow { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most alerts listed in one message; the rest are counted ("37 more alerts firing, see !alerts").</summary>
    public int MaxAlertsPerMessage { get; set; } = 10;

    /// <summary>The most alert messages one room gets per <see cref="RoomRatePeriod"/>; later alerts wait and are summarised.</summary>
    public int RoomRateLimit { get; set; } = 6;

    public TimeSpan RoomRatePeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Status changes within <see cref="FlapWindow"/> that make an alert flapping.</summary>
    public int FlapThreshold { get; set; } = 4;

    public TimeSpan FlapWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a flapping alert must stay unchanged before it is settled and its state posted again.</summary>
    public TimeSpan SettleAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The longest silence a person may set from chat.</summary>
    public TimeSpan MaxSilence { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the board looks for new <c>core.alert</c> events.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Events applied to the board per transaction; bounds memory under a burst.</summary>
    public int BatchSize { get; set; } = 500;
}

/// <summary>
/// One route: alerts of an application-tree node (and the nodes below it), or alerts whose labels all match, go
/// to <see cref="Rooms"/>. Give <see cref="Node"/> or <see cref="Labels"/> (or both: then both must match).
/// </summary>
public sealed class AlertRoute
{
    /// <summary>A node path (<c>corp/hotel</c>): alerts whose <c>application</c> label or host belongs to it or below.</summary>
    public string? Node { get; set; }

    /// <summary>Labels that must all be equal (<c>team: db</c>); a value <c>*</c> only needs the label present.</summary>
    public IDictionary<string, string> Labels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public IList<string> Rooms { get; } = [];

    /// <summary>When true, an alert this route matches is not also sent to later routes' rooms or the default room.</summary>
    public bool Stop { get; set; }
}
