namespace OpsRobot.Integrations.Ssh;

/// <summary>
/// How the <c>ssh</c> runner reaches hosts through the system's OpenSSH client (<c>OpsRobot:Ssh</c>). The defaults
/// are safe for production: host keys are checked strictly against OpsRobot's own known-hosts file, no agent, no
/// user configuration file.
/// </summary>
public sealed class SshOptions
{
    /// <summary>The OpenSSH client.</summary>
    public string SshPath { get; set; } = "/usr/bin/ssh";

    /// <summary>OpenSSH's <c>ssh-keyscan</c>, used only by the explicit trust action.</summary>
    public string KeyscanPath { get; set; } = "/usr/bin/ssh-keyscan";

    /// <summary>
    /// OpsRobot's known-hosts file, maintained only by the trust action (<c>ssh.trust</c>). A relative path is
    /// resolved against the data folder by the host. Host keys are never learned silently: a host missing from this
    /// file is refused.
    /// </summary>
    public string KnownHostsFile { get; set; } = "ssh/known_hosts";

    /// <summary>The login used when neither the action's <c>user</c> nor the host's <c>ssh_user</c> attribute says.</summary>
    public string? DefaultUser { get; set; }

    /// <summary>
    /// The system datastore secret holding the private key (OpenSSH or PEM text, no passphrase) used when the action
    /// gives no <c>key</c>. Keys are only ever read from secrets, never from parameters.
    /// </summary>
    public string? DefaultKey { get; set; }

    /// <summary>Hosts run at once when the action gives no <c>concurrency</c>.</summary>
    public int DefaultConcurrency { get; set; } = 10;

    /// <summary>The most hosts any run may touch at once, whatever the action asks.</summary>
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>
    /// The most hosts one run may select. A CMDB query that matches more is refused rather than cut, so a broad
    /// selection (<c>env=prod</c> alone) is a clear error instead of a surprise.
    /// </summary>
    public int MaxHosts { get; set; } = 500;

    /// <summary>Per-host time limit when the action gives no <c>timeout</c>.</summary>
    public TimeSpan DefaultHostTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// OpenSSH's <c>ConnectTimeout</c>: the TCP connection and the SSH banner must arrive within it, or the host is
    /// reported unreachable.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Characters of stdout, and as many of stderr, kept per host in the execution's result. A large value times
    /// many hosts is what one execution holds in memory and stores.
    /// </summary>
    public int OutputLimitPerHost { get; set; } = 64 * 1024;

    /// <summary>
    /// Where private keys are written, mode 0600 inside a private 0700 folder, for as long as one command runs.
    /// Null: <c>/dev/shm</c> (memory, never on disk) when it exists, else the temporary folder.
    /// </summary>
    public string? KeyDirectory { get; set; }

    /// <summary>
    /// Let OpenSSH forward the local agent. Off by default: a forwarded agent lets anyone root on the target use the
    /// keys it holds. Turning it on only matters if an agent is running for OpsRobot's user.
    /// </summary>
    public bool ForwardAgent { get; set; }
}
