using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Executions;

public sealed class OutputSinkTests
{
    private readonly RecordingStore _store = new();
    private readonly ExecutionEvents _events = new();
    private readonly TestTimeProvider _time = new();

    [Fact]
    public async Task Write_ManyPiecesAtOnce_StoredInOrder_InSharedWrites_AllByTheEndOfTheRun()
    {
        using var live = _events.Subscribe(7);
        var sink = NewSink(new ExecutionOptions { OutputFlushInterval = TimeSpan.FromMilliseconds(50) });

        for (var i = 1; i <= 100; i++)
        {
            sink.Write(i % 2 == 0 ? OutputKind.Stderr : OutputKind.Stdout, $"line {i}\n");
        }

        await sink.DisposeAsync();

        var stored = _store.Chunks.ToList();
        stored.Select(c => c.Sequence).ShouldBe(Enumerable.Range(1, 100).Select(i => (long)i));
        stored.Select(c => c.Text).ShouldBe(Enumerable.Range(1, 100).Select(i => $"line {i}\n"));
        stored[1].Kind.ShouldBe(OutputKind.Stderr);
        _store.Appends.ShouldBeLessThan(10, "pieces written together share a store write");
        live.Events.Count.ShouldBe(100, "every piece is published live at once");
    }

    [Fact]
    public async Task Write_OutputAfterAQuietSpell_IsStoredWhileTheRunGoesOn()
    {
        var sink = NewSink(new ExecutionOptions { OutputFlushInterval = TimeSpan.FromMilliseconds(20) });

        sink.Write(OutputKind.Stdout, "first\n");
        await WaitUntilAsync(() => _store.Chunks.Count == 1);
        sink.Write(OutputKind.Stdout, "second\n");
        await WaitUntilAsync(() => _store.Chunks.Count == 2);
        await sink.DisposeAsync();

        _store.Chunks.Select(c => c.Text).ShouldBe(["first\n", "second\n"]);
    }

    [Fact]
    public async Task Dispose_RunThatPrintedNothing_NeverWritesToTheStore()
    {
        var sink = NewSink(new ExecutionOptions { OutputFlushInterval = TimeSpan.FromMilliseconds(1) });
        await Task.Delay(50);

        await sink.DisposeAsync();

        _store.Appends.ShouldBe(0);
        sink.Truncated.ShouldBeFalse();
    }

    [Fact]
    public async Task Write_BeyondTheStoredCap_StoresUpToTheCapAndAMarker()
    {
        var sink = NewSink(new ExecutionOptions { MaxStoredOutputChars = 10 });

        sink.Write(OutputKind.Stdout, "0123456");
        sink.Write(OutputKind.Stdout, "789abcdef");
        sink.Write(OutputKind.Stdout, "more");
        await sink.DisposeAsync();

        sink.Truncated.ShouldBeTrue();
        string.Concat(_store.Chunks.Where(c => c.Kind == OutputKind.Stdout).Select(c => c.Text)).ShouldBe("0123456789");
        _store.Chunks.Last().Text.ShouldContain("output beyond 10 characters is not stored");
    }

    [Theory]
    [InlineData("the secret whole in one piece", new[] { "token=SuperSecret123 done\n" })]
    [InlineData("split in two", new[] { "token=Super", "Secret123 done\n" })]
    [InlineData("split in many, one character each at the seams", new[] { "token=S", "u", "perSecret12", "3", " done\n" })]
    [InlineData("the run ends right after the secret", new[] { "token=SuperSec", "ret123", " done\n" })]
    public async Task Write_ASecretSplitAcrossPieces_IsMaskedInWhatIsStoredAndWhatIsPublished(string row, string[] pieces)
    {
        using var live = _events.Subscribe(7);
        var sink = new OutputSink(7, _store, _events, _time, new ExecutionOptions(), NullLogger.Instance, new SecretMasker(["SuperSecret123"]));

        foreach (var piece in pieces)
        {
            sink.Write(OutputKind.Stdout, piece);
        }

        await sink.DisposeAsync();

        string.Concat(_store.Chunks.Select(c => c.Text)).ShouldBe("token=******** done\n", row);
        var published = new List<string>();
        while (live.Events.TryRead(out var e))
        {
            published.Add(((ExecutionOutputEvent)e).Chunk.Text);
        }

        string.Concat(published).ShouldBe("token=******** done\n", row);
        _store.Chunks.ShouldAllBe(c => !c.Text.Contains("Super", StringComparison.Ordinal) && !c.Text.Contains("123", StringComparison.Ordinal), row);
        _store.Chunks.Select(c => c.Sequence).ShouldBe(Enumerable.Range(1, _store.Chunks.Count).Select(i => (long)i), row);
    }

    [Fact]
    public async Task Write_WithSecrets_PassesOnAtOnceWhatCannotBeTheStartOfOne()
    {
        using var live = _events.Subscribe(7);
        var sink = new OutputSink(7, _store, _events, _time, new ExecutionOptions(), NullLogger.Instance, new SecretMasker(["SuperSecret123"]));

        sink.Write(OutputKind.Stdout, "progress 50%\n");
        sink.Write(OutputKind.Stderr, "warning: Sup");

        live.Events.TryRead(out var first).ShouldBeTrue("a piece that cannot begin a secret is published at once");
        ((ExecutionOutputEvent)first!).Chunk.Text.ShouldBe("progress 50%\n");
        live.Events.TryRead(out var second).ShouldBeTrue();
        ((ExecutionOutputEvent)second!).Chunk.Text.ShouldBe("warning: ", "the ending that could begin the secret waits for the next piece");
        await sink.DisposeAsync();
        string.Concat(_store.Chunks.Where(c => c.Kind == OutputKind.Stderr).Select(c => c.Text)).ShouldBe("warning: Sup", "it was not the secret after all");
    }

    private OutputSink NewSink(ExecutionOptions options) => new(7, _store, _events, _time, options, NullLogger.Instance);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the output was not stored in time");
            await Task.Delay(5);
        }
    }

    /// <summary>Keeps the output it is given, in the order of the writes; the sink uses nothing else of a store.</summary>
    private sealed class RecordingStore : IExecutionStore
    {
        private int _appends;

        public ConcurrentQueue<OutputChunk> Chunks { get; } = new();

        public int Appends => Volatile.Read(ref _appends);

        public Task AppendOutputAsync(IReadOnlyList<OutputChunk> chunks, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _appends);
            foreach (var chunk in chunks)
            {
                Chunks.Enqueue(chunk);
            }

            return Task.CompletedTask;
        }

        public Task<ExecutionRecord> CreateAsync(ExecutionRecord execution, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ExecutionRecord?> GetAsync(long id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<ExecutionRecord>> GetManyAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<ExecutionRecord>> ListAsync(ExecutionQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> TransitionAsync(long id, IReadOnlyCollection<ExecutionStatus> from, ExecutionStatus status, ExecutionUpdate update, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<ExecutionRecord?> TransitionAndReadAsync(long id, IReadOnlyCollection<ExecutionStatus> from, ExecutionStatus status, ExecutionUpdate update, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<bool> ClaimAsync(long id, string fromOwner, string toOwner, IReadOnlyCollection<ExecutionStatus> from, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<IReadOnlyList<OutputChunk>> ReadOutputAsync(long executionId, long afterSequence, int limit, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<IReadOnlyList<ExecutionRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
