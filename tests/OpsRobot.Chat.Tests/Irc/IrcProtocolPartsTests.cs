using System.Text;
using OpsRobot.Chat.Irc;
using OpsRobot.Testing;

namespace OpsRobot.Chat.Tests.Irc;

public sealed class IrcLineReaderTests
{
    [Fact]
    public async Task ReadLineAsync_CrLfAndBareLf_BothEndALine()
    {
        var reader = new IrcLineReader(new MemoryStream("PING :a\r\nPING :b\n"u8.ToArray()));

        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBe(new IrcLine("PING :a", false));
        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBe(new IrcLine("PING :b", false));
        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task ReadLineAsync_LineOver512Bytes_IsCutAndMarked_AndTheNextLineIsIntact()
    {
        var hostile = ":evil PRIVMSG #ops :" + new string('x', 100_000) + "\r\nPING :next\r\n";
        var reader = new IrcLineReader(new MemoryStream(Encoding.UTF8.GetBytes(hostile)));

        var first = await reader.ReadLineAsync(CancellationToken.None);
        var second = await reader.ReadLineAsync(CancellationToken.None);

        first.ShouldNotBeNull();
        first.Value.Oversized.ShouldBeTrue();
        Encoding.UTF8.GetByteCount(first.Value.Text).ShouldBeLessThanOrEqualTo(510);
        second.ShouldBe(new IrcLine("PING :next", false));
    }

    [Fact]
    public async Task ReadLineAsync_InvalidUtf8_IsReplacedNotThrown()
    {
        var reader = new IrcLineReader(new MemoryStream([(byte)'a', 0xFF, 0xFE, (byte)'b', (byte)'\n']));

        (await reader.ReadLineAsync(CancellationToken.None)).ShouldBe(new IrcLine("a\uFFFD\uFFFDb", false));
    }
}

public sealed class IrcOutboxTests
{
    [Fact]
    public async Task PeekThenCommit_KeepsALineUntilItWasSent()
    {
        var outbox = new IrcOutbox(10);
        outbox.Enqueue(["one", "two"]);

        var (sequence, line) = await outbox.PeekAsync(CancellationToken.None);
        var again = await outbox.PeekAsync(CancellationToken.None); // a reconnect before the commit: same line again
        outbox.Commit(sequence);

        line.ShouldBe("one");
        again.Line.ShouldBe("one");
        (await outbox.PeekAsync(CancellationToken.None)).Line.ShouldBe("two");
    }

    [Fact]
    public async Task Enqueue_BeyondCapacity_DropsTheOldest()
    {
        var outbox = new IrcOutbox(3);

        var dropped = outbox.Enqueue(["1", "2", "3", "4", "5"]);

        dropped.ShouldBe(2);
        outbox.Count.ShouldBe(3);
        (await outbox.PeekAsync(CancellationToken.None)).Line.ShouldBe("3");
    }

    [Fact]
    public async Task Commit_OfALineDroppedMeanwhile_RemovesNothingElse()
    {
        var outbox = new IrcOutbox(2);
        outbox.Enqueue(["a", "b"]);
        var (sequence, _) = await outbox.PeekAsync(CancellationToken.None);
        outbox.Enqueue(["c"]); // "a" dropped while being sent

        outbox.Commit(sequence);

        (await outbox.PeekAsync(CancellationToken.None)).Line.ShouldBe("b");
    }

    [Fact]
    public async Task PeekAsync_WaitsForALine()
    {
        var outbox = new IrcOutbox(10);
        var peek = outbox.PeekAsync(CancellationToken.None);
        peek.IsCompleted.ShouldBeFalse();

        outbox.Enqueue(["late"]);

        (await peek.WaitAsync(TimeSpan.FromSeconds(5))).Line.ShouldBe("late");
    }
}

public sealed class IrcFloodGateTests
{
    [Fact]
    public async Task WaitAsync_AfterTheBurst_SpacesLinesByTheDelay()
    {
        var gate = new IrcFloodGate(burst: 4, delay: TimeSpan.FromMilliseconds(200), new TestTimeProvider());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 4; i++)
        {
            await gate.WaitAsync(CancellationToken.None);
        }

        var burst = clock.Elapsed;
        await gate.WaitAsync(CancellationToken.None);
        await gate.WaitAsync(CancellationToken.None);

        burst.ShouldBeLessThan(TimeSpan.FromMilliseconds(150));
        clock.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(350));
    }
}

public sealed class IrcAdapterPartsTests
{
    [Theory]
    [InlineData(1, 0.0, 100)] // first retry: half the minimum at the least
    [InlineData(1, 1.0, 200)] // and the minimum at most
    [InlineData(3, 1.0, 800)] // doubles per failure
    [InlineData(20, 1.0, 5000)] // capped at the maximum
    [InlineData(20, 0.0, 2500)]
    public void Backoff_DoublesWithJitterUpToTheMaximum(int attempt, double random, double expectedMs) =>
        IrcAdapter.Backoff(attempt, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), random).TotalMilliseconds.ShouldBe(expectedMs);

    [Fact]
    public void SaslPlainChunks_EncodesUserUserPassword()
    {
        var chunks = IrcAdapter.SaslPlainChunks("robot", "s3cret");

        chunks.Count.ShouldBe(1);
        Encoding.UTF8.GetString(Convert.FromBase64String(chunks[0])).ShouldBe("robot\0robot\0s3cret");
    }

    [Fact]
    public void SaslPlainChunks_ExactMultipleOf400_EndsWithPlus()
    {
        // 300 bytes of credentials encode to exactly 400 base64 characters.
        var chunks = IrcAdapter.SaslPlainChunks("u", new string('p', 300 - 4));

        chunks.ShouldBe([chunks[0], "+"]);
        chunks[0].Length.ShouldBe(400);
    }
}
