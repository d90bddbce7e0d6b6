using OpsRobot.Integrations.Nagios;

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
}
