namespace OpsRobot.Runners.Processes;

/// <summary>
/// How the <c>shell</c> and <c>script</c> runners start, watch and stop processes. The defaults are safe for a
/// shared server; a host may bind them from configuration.
/// </summary>
public sealed class ProcessRunnerOptions
{
    /// <summary>
    /// How long a canceled or timed-out run's processes get between SIGTERM and SIGKILL. A long value lets scripts
    /// clean up; it also delays the end of every canceled execution by up to that much.
    /// </summary>
    public TimeSpan KillGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// At most this many characters of stdout, and as many of stderr, are kept in the execution's result; the rest
    /// is still streamed as output but replaced in the result by a truncation marker. Raising it raises the memory
    /// one noisy execution can hold and the size of every stored result.
    /// </summary>
    public int ResultOutputLimit { get; set; } = 1024 * 1024;

    /// <summary>
    /// After the main process exits (and any processes it left behind are stopped), how long to wait for the
    /// output pipes to close. A process that escaped the run's session (a daemon that called <c>setsid</c>) can
    /// hold them open forever; after this the run ends without the rest of its output.
    /// </summary>
    public TimeSpan OutputDrainTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Stop processes a run leaves behind in its session when its main process exits (<c>sleep 1000 &amp;</c>),
    /// the way systemd stops a unit's control group. Turning this off leaves such processes running unwatched,
    /// with no timeout and no one to cancel them, and the run waits <see cref="OutputDrainTimeout"/> if they keep
    /// its output pipes open.
    /// </summary>
    public bool StopLeftoverProcesses { get; set; } = true;

    /// <summary>
    /// util-linux <c>setsid</c>, which makes each run the leader of a new session and process group, so that the
    /// whole tree can be signalled at once.
    /// </summary>
    public string SetsidPath { get; set; } = "/usr/bin/setsid";

    /// <summary>The shell that runs <c>cmd</c> (<c>bash -c</c>) and scripts without an interpreter line.</summary>
    public string ShellPath { get; set; } = "/bin/bash";

    /// <summary>
    /// The variables copied from OpsRobot's own environment into each process's otherwise empty environment.
    /// Every other variable of OpsRobot (which may hold secrets such as <c>OPSROBOT__ADMIN__PASSWORD</c>) is
    /// withheld. Add a name only when it holds nothing secret.
    /// </summary>
    public IList<string> InheritedEnvironment { get; } = ["PATH", "HOME", "LANG", "USER"];

    /// <summary>PATH when OpsRobot's own environment has none.</summary>
    public string DefaultPath { get; set; } = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}
