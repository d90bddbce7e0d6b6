using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Core.Status;

namespace OpsRobot.Web;

/// <summary>The web chat adapter's line in <c>!status</c>.</summary>
internal sealed class WebChatStatus(RoomFeed feed, IServer server) : IStatusSource
{
    public ValueTask<ComponentStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var addresses = server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses;
        var where = addresses is { Count: > 0 } ? string.Join(", ", addresses) : "not listening yet";
        return ValueTask.FromResult(new ComponentStatus(
            "chat:web", HealthState.Healthy, string.Create(CultureInfo.InvariantCulture, $"{where}, {feed.ConnectionCount} live connection(s)")));
    }
}
