using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Integrations.Nagios;
using OpsRobot.Integrations.Tests.Support;
using OpsRobot.Testing.Nagios;

namespace OpsRobot.Integrations.Tests.Nagios;

public sealed class NagiosRunnerTests
{
    private static readonly IReadOnlySet<string> Services = new HashSet<string>(["disk", "Disk Space", "Disk Space /var"], StringComparer.Ordinal);

    [Theory]
    [InlineData("disk looking into it", "disk", "looking into it")]
    [InlineData("Disk Space looking", "Disk Space", "looking")]
    [InlineData("Disk Space /var cleaning", "Disk Space /var", "cleaning")]
    [InlineData("\"Disk Space\" looking", "Disk Space", "looking")]
    [InlineData("Disk Space\" looking", "Disk Space", "looking")]
    [InlineData("disk", "disk", null)]
    [InlineData("looking into disk", null, "looking into disk")]
    [InlineData("DISK is full", null, "DISK is full")]
    public void SplitService_ChatText_LongestKnownServiceThenTheRest(string text, string? service, string? rest)
    {
        NagiosRunner.SplitService(text, Services).ShouldBe((service, rest));
    }

    [Fact]
    public async Task ChangesFromChatText_ReadTheStatusFileOncePerCommand()
    {
        await using var nagios = await NagiosServer.StartAsync();
        var options = NagiosTestSupport.OptionsFor(nagios);
        var statusFile = new CountingStatusFile(new NagiosStatusFile(new FixedOptions<NagiosOptions>(options)));
        var runner = new NagiosRunner(NagiosTestSupport.ClientFor(options, statusFile), new FixedOptions<NagiosOptions>(options), TimeProvider.System, EmptyServices.Instance);

        // The runner reads the status to find "Disk Space" in the words; the client checks the target in that same read.
        var off = await RunAsync(runner, "notifications", new() { ["host"] = "web01", ["text"] = "Disk Space", ["state"] = "off" });
        var offReads = statusFile.Reads;
        var recheck = await RunAsync(runner, "recheck", new() { ["host"] = "web01", ["text"] = "load" });

        off.Outcome.ShouldBe(RunnerOutcome.Succeeded, off.Error);
        recheck.Outcome.ShouldBe(RunnerOutcome.Succeeded, recheck.Error);
        offReads.ShouldBe(1);
        statusFile.Reads.ShouldBe(2);
        await nagios.WaitForStatusAsync(s => NagiosServer.ServiceBlock(s, "web01", "Disk Space")!.Contains("notifications_enabled=0", StringComparison.Ordinal), NagiosTestSupport.Wait);
    }

    private static Task<RunnerResult> RunAsync(NagiosRunner runner, string operation, Dictionary<string, JsonNode?> parameters)
    {
        parameters["operation"] = operation;
        return runner.RunAsync(new RunnerContext("1", new ActionDefinition("nagios", operation, "nagios"), parameters, new RecordingOutput()), CancellationToken.None);
    }

    /// <summary>The real status file, counting how often it is read.</summary>
    private sealed class CountingStatusFile(INagiosStatusFile inner) : INagiosStatusFile
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public Task<NagiosStatus> ReadAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            return inner.ReadAsync(cancellationToken);
        }
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
