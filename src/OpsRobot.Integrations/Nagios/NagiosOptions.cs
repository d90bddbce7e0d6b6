namespace OpsRobot.Integrations.Nagios;

/// <summary>
/// Where OpsRobot finds Nagios on this machine: configuration section <c>OpsRobot:Nagios</c>. The defaults are
/// Debian's <c>nagios4</c> paths.
/// </summary>
public sealed class NagiosOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string Section = "OpsRobot:Nagios";

    /// <summary>
    /// Nagios's external command file (<c>command_file</c> in nagios.cfg): a named pipe that OpsRobot's user must be
    /// allowed to write (Debian: group <c>nagios</c>, mode 0660).
    /// </summary>
    public string CommandFile { get; set; } = "/var/lib/nagios4/rw/nagios.cmd";

    /// <summary>Nagios's status data (<c>status_file</c> in nagios.cfg), read for status, problems and downtime ids.</summary>
    public string StatusFile { get; set; } = "/var/lib/nagios4/status.dat";

    /// <summary>
    /// The Nagios web interface (<c>https://nagios.example/nagios4</c>), for links in answers; empty for no links.
    /// </summary>
    public string? WebUrl { get; set; }

    /// <summary>
    /// How long a command may wait for room in the command pipe before it is given up. The pipe fills when Nagios
    /// stops reading it (hung, or busy); waiting longer only delays the answer.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Status data older than this is reported as stale (Nagios may be down) next to what it shows.</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest downtime or silence one command may schedule.</summary>
    public TimeSpan MaxDowntime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The most problems or hosts one chat answer lists (the rest are counted).</summary>
    public int MaxListed { get; set; } = 50;
}
