using System.Diagnostics;
using OpsRobot.Integrations.Nagios;
using OpsRobot.Testing;

namespace OpsRobot.Integrations.Tests.Nagios;

/// <summary>The command pipe without Nagios: what an operator sees when Nagios is down, hung or misconfigured.</summary>
public sealed class NagiosCommandPipeTests : IDisposable
{
    private readonly TempDirectory _dir = new("opsrobot-nagios-pipe");
    private readonly NagiosCommandPipe _pipe = new(TimeProvider.System);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Write_PipeWithoutReader_SaysNagiosIsNotRunningAtOnce()
    {
        var path = _dir.Combine("nagios.cmd");
        NagiosTestSupport.MakeFifo(path);
        var clock = Stopwatch.StartNew();

        var ex = await Should.ThrowAsync<NagiosException>(() => _pipe.WriteAsync(path, "[1] DISABLE_NOTIFICATIONS", TimeSpan.FromMinutes(5), CancellationToken.None));

        ex.Message.ShouldContain("Nagios is not running");
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromMinutes(1), "a write to a pipe nobody reads must not block");
    }

    [Fact]
    public async Task Write_PipeThatStaysFull_GivesUpAfterTheTimeout()
    {
        var path = _dir.Combine("nagios.cmd");
        NagiosTestSupport.MakeFifo(path);

        // A reader that never reads: opening read-write does not block on Linux, and keeps the pipe "open for reading".
        await using var stuck = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        var line = "[1] " + new string('x', 4000);
        var ex = await Should.ThrowAsync<NagiosException>(async () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                await _pipe.WriteAsync(path, line, TimeSpan.FromMilliseconds(300), CancellationToken.None);
            }
        });

        ex.Message.ShouldContain("stayed full");
    }

    [Fact]
    public async Task Write_WithReader_DeliversOneWholeLine()
    {
        var path = _dir.Combine("nagios.cmd");
        NagiosTestSupport.MakeFifo(path);
        await using var reader = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);

        await _pipe.WriteAsync(path, "[1800000000] ENABLE_HOST_NOTIFICATIONS;web01", TimeSpan.FromSeconds(5), CancellationToken.None);

        var buffer = new byte[4096];
        var read = await reader.ReadAsync(buffer);
        System.Text.Encoding.UTF8.GetString(buffer, 0, read).ShouldBe("[1800000000] ENABLE_HOST_NOTIFICATIONS;web01\n");
    }

    [Fact]
    public async Task Write_RegularFile_IsRefusedBecauseNagiosWouldNeverReadIt()
    {
        var path = _dir.Write("nagios.cmd", string.Empty);

        var ex = await Should.ThrowAsync<NagiosException>(() => _pipe.WriteAsync(path, "[1] X", TimeSpan.FromSeconds(1), CancellationToken.None));

        ex.Message.ShouldContain("not a named pipe");
        (await File.ReadAllTextAsync(path)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Write_MissingFile_NamesTheSetting()
    {
        var ex = await Should.ThrowAsync<NagiosException>(() => _pipe.WriteAsync(_dir.Combine("nope.cmd"), "[1] X", TimeSpan.FromSeconds(1), CancellationToken.None));

        ex.Message.ShouldContain("OpsRobot:Nagios:CommandFile");
    }

    [Fact]
    public async Task Write_LineOverPipeBuf_IsRefusedSoItCannotInterleave()
    {
        var path = _dir.Combine("nagios.cmd");
        NagiosTestSupport.MakeFifo(path);

        await Should.ThrowAsync<NagiosException>(() => _pipe.WriteAsync(path, new string('x', NagiosCommandPipe.MaxLineBytes), TimeSpan.FromSeconds(1), CancellationToken.None));
        await Should.ThrowAsync<ArgumentException>(() => _pipe.WriteAsync(path, "a\nb", TimeSpan.FromSeconds(1), CancellationToken.None));
    }
}
