using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Mattermost;
using OpsRobot.Chat.RocketChat;
using OpsRobot.Chat.Slack;
using OpsRobot.Chat.Tests.Mattermost;
using OpsRobot.Chat.Tests.RocketChat;
using OpsRobot.Chat.Tests.Slack;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Status;

namespace OpsRobot.Chat.Tests.Connected;

/// <summary>Slack, Mattermost and Rocket.Chat in one robot, registered from configuration the way the host does it.</summary>
public sealed class SeveralAdaptersTests
{
    [Fact]
    public async Task ThreePlatformsAtOnce_EachAnswersItsOwn_LaterMessagesRoutedByPlatform()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var mm = await FakeMattermost.StartAsync();
        await using var rc = await FakeRocketChat.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OpsRobot:Chat:Slack:Enabled"] = "true",
            ["OpsRobot:Chat:Slack:AppToken"] = FakeSlack.AppToken,
            ["OpsRobot:Chat:Slack:BotToken"] = FakeSlack.BotToken,
            ["OpsRobot:Chat:Slack:ApiBaseUrl"] = slack.ApiBase.AbsoluteUri,
            ["OpsRobot:Chat:Slack:MessageDelay"] = "00:00:00",
            ["OpsRobot:Chat:Mattermost:Enabled"] = "true",
            ["OpsRobot:Chat:Mattermost:ServerUrl"] = mm.ServerUrl.AbsoluteUri,
            ["OpsRobot:Chat:Mattermost:Token"] = FakeMattermost.Token,
            ["OpsRobot:Chat:RocketChat:Enabled"] = "true",
            ["OpsRobot:Chat:RocketChat:ServerUrl"] = rc.ServerUrl.AbsoluteUri,
            ["OpsRobot:Chat:RocketChat:UserId"] = FakeRocketChat.BotId,
            ["OpsRobot:Chat:RocketChat:AuthToken"] = FakeRocketChat.BotToken,
        }).Build();
        await using var services = AdapterHarness.Services(s => s.AddOpsRobotSlack(configuration).AddOpsRobotMattermost(configuration).AddOpsRobotRocketChat(configuration));
        var hosted = services.GetServices<IHostedService>().ToList();
        hosted.Count.ShouldBe(3);
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        try
        {
            await slack.WaitConnectedAsync();
            await mm.WaitConnectedAsync();
            await rc.WaitSubscribedAsync();
            var statuses = await Task.WhenAll(services.GetServices<IStatusSource>().Select(s => s.GetStatusAsync(CancellationToken.None).AsTask()));
            statuses.Select(s => s.Component).ShouldBe(["chat:slack", "chat:mattermost", "chat:rocketchat"], ignoreOrder: true);
            await AdapterHarness.WaitUntilAsync(() => new[] { services.GetRequiredService<SlackAdapter>().State, services.GetRequiredService<MattermostAdapter>().State, services.GetRequiredService<RocketChatAdapter>().State }.All(s => s == ChatAdapterState.Ready));

            await slack.SendEventAsync(FakeSlack.Message("U0ALICE", "C0OPS", "!echo from slack", "1700000020.000100"));
            await mm.PostAsUserAsync("a11ce000000000000000000000", "alice", "0ps00000000000000000000000", "!echo from mattermost");
            await rc.SayAsync("A1iceUser0000000x", "alice", "0psRoom000000000x", "!echo from rocket.chat");

            (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("from slack");
            (await mm.NextPostAsync())["message"]!.GetValue<string>().ShouldBe("from mattermost");
            (await rc.NextPostAsync())["msg"]!.GetValue<string>().ShouldBe("from rocket.chat");

            // An execution's result goes through the composed sender to the platform it names, and nowhere else.
            var sender = new CompositeReplySender(services.GetServices<ReplySenderRegistration>());
            (await sender.SendAsync("mattermost", new ChatRoom("0ps00000000000000000000000", "ops", false), new OutgoingMessage("result"), CancellationToken.None)).ShouldBeTrue();
            (await sender.SendAsync("teams", new ChatRoom("x", "x", false), new OutgoingMessage("nobody"), CancellationToken.None)).ShouldBeFalse();
            (await mm.NextPostAsync())["message"]!.GetValue<string>().ShouldBe("result");
            (await slack.NoPostWithinAsync(TimeSpan.FromMilliseconds(300))).ShouldBeTrue();
            (await rc.NoPostWithinAsync(TimeSpan.FromMilliseconds(300))).ShouldBeTrue();
        }
        finally
        {
            foreach (var service in hosted)
            {
                await service.StopAsync(CancellationToken.None);
            }
        }
    }
}
