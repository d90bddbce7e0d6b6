using OpsRobot.Core.Alerts;

namespace OpsRobot.Storage.Tests.Alerts;

/// <summary>Which rooms hear an alert: by application-tree node (label or host), by labels, else the default room.</summary>
public sealed class AlertRoutingTests
{
    private static void Routes(AlertOptions o)
    {
        var hotel = new AlertRoute { Node = "corp/hotel" };
        hotel.Rooms.Add("irc:#hotel");
        var db = new AlertRoute();
        db.Labels["team"] = "db";
        db.Rooms.Add("irc:#db");
        o.Routes.Add(hotel);
        o.Routes.Add(db);
    }

    [Fact]
    public async Task ApplicationLabel_RoutesToTheNodesRoom_AndItsNodeIsRecorded()
    {
        await using var world = await AlertWorld.StartAsync(Routes);
        await world.AddNodesAsync("corp", "corp/hotel", "corp/hotel/booking");
        await world.AlertAsync("ApiDown", labels: ("application", "booking"));
        await world.SettleRoomsAsync();

        world.Chat.Sent.ShouldHaveSingleItem().Room.ShouldBe("irc:#hotel");
        (await world.Store.GetAsync(1, CancellationToken.None)).ShouldNotBeNull().Node.ShouldBe("corp/hotel/booking");
    }

    [Fact]
    public async Task HostInTheCmdb_RoutesToItsNodesRoom_PortIgnored()
    {
        await using var world = await AlertWorld.StartAsync(Routes);
        await world.AddNodesAsync("corp", "corp/hotel");
        world.Hosts.Nodes["web7"] = "corp/hotel";
        await world.AlertAsync("CpuHigh", host: "web7:9100");
        await world.SettleRoomsAsync();

        world.Chat.Sent.ShouldHaveSingleItem().Room.ShouldBe("irc:#hotel");
    }

    [Fact]
    public async Task LabelRoute_AndNodeRoute_BothGetIt_DefaultDoesNot()
    {
        await using var world = await AlertWorld.StartAsync(Routes);
        await world.AddNodesAsync("corp", "corp/hotel");
        await world.AlertAsync("ReplicaLag", labels: [("application", "corp/hotel"), ("team", "db")]);
        await world.SettleRoomsAsync();

        world.Chat.Sent.Select(s => s.Room).Order(StringComparer.Ordinal).ShouldBe(["irc:#db", "irc:#hotel"]);
    }

    [Fact]
    public async Task NoRouteMatches_GoesToTheDefaultRoom_AndAnUnknownApplicationIsNoNode()
    {
        await using var world = await AlertWorld.StartAsync(Routes);
        await world.AlertAsync("Other", labels: ("application", "../corp"));
        await world.SettleRoomsAsync();

        world.Chat.Sent.ShouldHaveSingleItem().Room.ShouldBe("irc:#alerts");
        (await world.Store.GetAsync(1, CancellationToken.None)).ShouldNotBeNull().Node.ShouldBeNull();
    }

    [Fact]
    public void Check_NamesEachMistakeInTheConfiguration()
    {
        var options = new AlertOptions { DefaultRoom = "ops" };
        options.Routes.Add(new AlertRoute());
        var bad = new AlertRoute { Node = "Corp/../x" };
        bad.Rooms.Add("nocolon");
        options.Routes.Add(bad);

        var problems = AlertRouter.Check(options);

        problems.ShouldContain(p => p.Contains("DefaultRoom 'ops' is not platform:room", StringComparison.Ordinal));
        problems.ShouldContain(p => p.Contains("Routes:0 names neither a Node nor Labels", StringComparison.Ordinal));
        problems.ShouldContain(p => p.Contains("Routes:0 has no Rooms", StringComparison.Ordinal));
        problems.ShouldContain(p => p.Contains("Routes:1:Node 'Corp/../x'", StringComparison.Ordinal));
        problems.ShouldContain(p => p.Contains("room 'nocolon' is not platform:room", StringComparison.Ordinal));
    }
}
