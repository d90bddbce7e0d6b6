using System.Text;
using OpsRobot.Core.Actions;

namespace OpsRobot.Runners.Tests.Support;

/// <summary>An output sink that keeps what it is given (or only counts it, for huge output) and can be awaited.</summary>
public sealed class RecordingOutput(bool keep = true) : IRunnerOutput
{
    private readonly Lock _gate = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(OutputKind Kind, string Text)> _chunks = [];
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];

    public long StdoutChars { get; private set; }

    public long StderrChars { get; private set; }

    public int ChunkCount { get; private set; }

    public string Stdout
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    public IReadOnlyList<(OutputKind Kind, string Text)> Chunks
    {
        get
        {
            lock (_gate)
            {
                return [.. _chunks];
            }
        }
    }

    public void Write(OutputKind kind, string text)
    {
        lock (_gate)
        {
            ChunkCount++;
            if (kind == OutputKind.Stdout)
            {
                StdoutChars += text.Length;
            }
            else
            {
                StderrChars += text.Length;
            }

            if (!keep)
            {
                return;
            }

            _chunks.Add((kind, text));
            (kind == OutputKind.Stdout ? _stdout : _stderr).Append(text);
            var all = _stdout.ToString();
            foreach (var waiter in _waiters.Where(w => all.Contains(w.Text, StringComparison.Ordinal)).ToList())
            {
                waiter.Seen.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Completes when stdout contains <paramref name="text"/>.</summary>
    public Task WaitForStdoutAsync(string text)
    {
        lock (_gate)
        {
            if (_stdout.ToString().Contains(text, StringComparison.Ordinal))
            {
                return Task.CompletedTask;
            }

            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((text, seen));
            return seen.Task;
        }
    }
}
