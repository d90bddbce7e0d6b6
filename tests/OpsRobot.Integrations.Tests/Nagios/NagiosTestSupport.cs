using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Integrations.Nagios;
using OpsRobot.Testing.Nagios;

namespace OpsRobot.Integrations.Tests.Nagios;

/// <summary>Options that never change, for a client built by hand.</summary>
internal sealed class FixedOptions<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}

internal static class NagiosTestSupport
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    public static NagiosOptions OptionsFor(NagiosServer server) => new()
    {
        CommandFile = server.CommandFile,
        StatusFile = server.StatusFile,
        CommandTimeout = TimeSpan.FromSeconds(10),
    };

    public static NagiosClient ClientFor(NagiosServer server) => ClientFor(OptionsFor(server));

    public static NagiosClient ClientFor(NagiosOptions options) => ClientFor(options, new NagiosStatusFile(new FixedOptions<NagiosOptions>(options)));

    public static NagiosClient ClientFor(NagiosOptions options, INagiosStatusFile statusFile) =>
        new(new FixedOptions<NagiosOptions>(options), statusFile, new NagiosCommandPipe(TimeProvider.System), TimeProvider.System, NullLogger<NagiosClient>.Instance);

    /// <summary>Makes a named pipe with mkfifo(1).</summary>
    public static void MakeFifo(string path)
    {
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", ["-m", "600", path]);
        mkfifo.WaitForExit();
        mkfifo.ExitCode.ShouldBe(0);
    }
}
