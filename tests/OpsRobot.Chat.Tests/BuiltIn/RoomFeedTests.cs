using OpsRobot.Chat.BuiltIn;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Core.Rooms;

namespace OpsRobot.Chat.Tests.BuiltIn;

public sealed class RoomFeedTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Publish_SubscriberNeverReads_CutOffAfterTheBufferWhileOthersKeepReceiving()
    {
        var feed = new RoomFeed();
        using var stalled = feed.Subscribe(1);
        using var reading = feed.Subscribe(2);
        var received = new List<StoredMessage>();
        long[] members = [1, 2];

        for (var i = 1; i <= RoomFeed.SubscriberBuffer + 100; i++)
        {
            feed.Publish(Message(i), members);
            received.AddRange(ChatHarness.Drain(reading));
        }

        stalled.Overflowed.ShouldBeTrue();
        reading.Overflowed.ShouldBeFalse();
        received.Select(m => m.Id).ShouldBe(Enumerable.Range(1, RoomFeed.SubscriberBuffer + 100).Select(i => (long)i));
        var buffered = ChatHarness.Drain(stalled);
        buffered.Select(m => m.Id).ShouldBe(Enumerable.Range(1, RoomFeed.SubscriberBuffer).Select(i => (long)i));
        await stalled.Messages.Completion.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Publish_ExactlyTheBuffer_SubscriberNotCutOff()
    {
        var feed = new RoomFeed();
        using var slow = feed.Subscribe(1);

        for (var i = 1; i <= RoomFeed.SubscriberBuffer; i++)
        {
            feed.Publish(Message(i), [1]);
        }

        slow.Overflowed.ShouldBeFalse();
        slow.Messages.Completion.IsCompleted.ShouldBeFalse();
        ChatHarness.Drain(slow).Count.ShouldBe(RoomFeed.SubscriberBuffer);
    }

    [Fact]
    public void Publish_OnlyToTheMembersNamed()
    {
        var feed = new RoomFeed();
        using var member = feed.Subscribe(1);
        using var outsider = feed.Subscribe(2);

        feed.Publish(Message(1), [1, 3]);

        ChatHarness.Drain(member).Select(m => m.Id).ShouldBe([1L]);
        ChatHarness.Drain(outsider).ShouldBeEmpty();
    }

    [Fact]
    public void Subscribe_AfterAMessage_OnlyGetsLaterOnes()
    {
        var feed = new RoomFeed();
        feed.Publish(Message(1), [1]);

        using var late = feed.Subscribe(1);
        feed.Publish(Message(2), [1]);

        ChatHarness.Drain(late).Select(m => m.Id).ShouldBe([2L]);
    }

    [Fact]
    public async Task Dispose_Subscription_RemovedAndItsChannelCompleted()
    {
        var feed = new RoomFeed();
        var first = feed.Subscribe(1);
        using var second = feed.Subscribe(1);
        using var other = feed.Subscribe(2);
        var before = feed.ConnectionCount;

        first.Dispose();
        feed.Publish(Message(1), [1, 2]);

        before.ShouldBe(3);
        feed.ConnectionCount.ShouldBe(2);
        ChatHarness.Drain(first).ShouldBeEmpty();
        await first.Messages.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        ChatHarness.Drain(second).Select(m => m.Id).ShouldBe([1L]);
        ChatHarness.Drain(other).Select(m => m.Id).ShouldBe([1L]);
    }

    private static StoredMessage Message(long id) => new(id, 7, "ops", AuthorKind.User, 1, "alice", $"m{id}", At);
}
