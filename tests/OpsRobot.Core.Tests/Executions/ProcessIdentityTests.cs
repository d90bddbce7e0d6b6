using System.Diagnostics;
using System.Globalization;
using OpsRobot.Core.Executions;

namespace OpsRobot.Core.Tests.Executions;

/// <summary>
/// <see cref="ProcessIdentity"/>: an owner is gone only when that is proven, and the proof does not depend on which
/// process makes it or when (a live owner taken for gone has its running work abandoned).
/// </summary>
public sealed class ProcessIdentityTests
{
    // The real clock: the old form is checked against this machine's real uptime.
    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    [Theory]
    [InlineData("a plain name", "4321 (sleep) S 1 4321 4321 0 -1 4194560 95 0 0 0 0 0 0 0 20 0 1 0 5759468 8192000 230 18446744073709551615")]
    [InlineData("a name with spaces and parentheses", "4321 (we (i) rd) name) S 1 4321 4321 0 -1 4194560 95 0 0 0 0 0 0 0 20 0 1 0 5759468 8192000 230 18446744073709551615")]
    public void ParseStartTicks_Field22CountedAfterTheLastParenthesis(string row, string stat)
    {
        ProcessIdentity.ParseStartTicks(stat).ShouldBe(5759468UL, row);
    }

    [Theory]
    [InlineData("")]
    [InlineData("4321 (sleep")]
    [InlineData("4321 (sleep) S 1 2 3")]
    [InlineData("4321 (sleep) S 1 4321 4321 0 -1 4194560 95 0 0 0 0 0 0 0 20 0 1 0 -5 8192000")]
    public void ParseStartTicks_AMalformedLine_IsNull(string stat)
    {
        ProcessIdentity.ParseStartTicks(stat).ShouldBeNull();
    }

    [Fact]
    public void Current_IsAliveAndStable()
    {
        ProcessIdentity.Current.ShouldStartWith($"{Environment.MachineName}:{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}:");
        ProcessIdentity.Of(Environment.ProcessId).ShouldBe(ProcessIdentity.Current);
        ProcessIdentity.IsAlive(ProcessIdentity.Current, Now, Now).ShouldBeTrue();
    }

    [Fact]
    public async Task IsAlive_AnotherProcess_TrueWhileItRuns_FalseOnceItEnded_AndNeverForAnotherStartTime()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", ["120"]) { UseShellExecute = false })!;
        try
        {
            var owner = ProcessIdentity.Of(child.Id).ShouldNotBeNull();

            // Read again and again, as other processes do at other moments: the same answer each time.
            for (var i = 0; i < 20; i++)
            {
                ProcessIdentity.Of(child.Id).ShouldBe(owner);
                ProcessIdentity.IsAlive(owner, Now, Now).ShouldBeTrue();
                await Task.Delay(10);
            }

            if (OperatingSystem.IsLinux())
            {
                var parts = owner.Split(':');
                parts.Length.ShouldBe(5, owner);
                var start = ulong.Parse(parts[4], CultureInfo.InvariantCulture);
                var earlier = string.Join(':', parts[..4]) + ":" + (start - 1).ToString(CultureInfo.InvariantCulture);
                ProcessIdentity.IsAlive(earlier, Now, Now).ShouldBeFalse("the same pid with another start time is another process");
                var otherBoot = string.Join(':', parts[..3]) + ":00000000-0000-0000-0000-000000000000:" + parts[4];
                ProcessIdentity.IsAlive(otherBoot, Now, Now).ShouldBeFalse("a process of an earlier boot is gone");
            }
        }
        finally
        {
            child.Kill();
            await child.WaitForExitAsync();
        }

        var gone = ProcessIdentity.Of(child.Id);
        gone.ShouldBeNull();
    }

    [Fact]
    public async Task IsAlive_AnEndedProcessesOwner_IsFalse()
    {
        string owner;
        using (var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            owner = ProcessIdentity.Of(child.Id) ?? $"{Environment.MachineName}:{child.Id.ToString(CultureInfo.InvariantCulture)}:linux:x:1";
            await child.WaitForExitAsync();
        }

        ProcessIdentity.IsAlive(owner, Now, Now).ShouldBeFalse();
    }

    [Fact]
    public async Task IsAlive_TheOldForm_IsTrueWhileItsPidRuns_UnlessItsRecordPredatesThisBoot()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var child = Process.Start(new ProcessStartInfo("sleep", ["120"]) { UseShellExecute = false })!;
        var oldForm = $"{Environment.MachineName}:{child.Id.ToString(CultureInfo.InvariantCulture)}:638000000000000000";
        try
        {
            // Its ticks came from a clock-derived start time that differs from process to process: they prove nothing.
            ProcessIdentity.IsAlive(oldForm, Now.AddMinutes(-5), Now).ShouldBeTrue("a live pid is never taken for gone on a guess");
            var uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
            ProcessIdentity.IsAlive(oldForm, Now.AddSeconds(-uptime).AddHours(-1), Now).ShouldBeFalse("made before this boot: its owner is gone, the pid is reused");
        }
        finally
        {
            child.Kill();
            await child.WaitForExitAsync();
        }

        ProcessIdentity.IsAlive(oldForm, Now, Now).ShouldBeFalse("its pid no longer runs");
    }

    [Theory]
    [InlineData("another machine", "no-such-host:1:2")]
    [InlineData("no pid", "{host}")]
    [InlineData("a pid that is not a number", "{host}:abc:123")]
    [InlineData("an unknown form", "{host}:1:what:is:this:6")]
    [InlineData("empty", "")]
    public void IsAlive_AnOwnerThatNamesNoProcessOfThisMachine_IsFalse(string row, string owner)
    {
        ProcessIdentity.IsAlive(owner.Replace("{host}", Environment.MachineName, StringComparison.Ordinal), Now, Now).ShouldBeFalse(row);
    }
}
