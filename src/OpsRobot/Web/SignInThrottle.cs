using System.Collections.Concurrent;

namespace OpsRobot.Web;

/// <summary>
/// Failed sign-ins counted per user name <em>and</em> client address. After
/// <see cref="Hosting.SignInSettings.MaxFailedAttempts"/> failures in a row from one address, that name is paused
/// there for <see cref="Hosting.SignInSettings.LockoutDuration"/>: someone guessing from one machine is slowed
/// down, while the user signs in from their own machine as usual (a per-account lock let any stranger lock out the
/// administrator). Names that do not exist are counted exactly like those that do, so a pause tells nothing about
/// which names exist. Held in memory: a restart forgets the counts, and the table is bounded so a flood of
/// addresses cannot grow it without end.
/// </summary>
internal sealed class SignInThrottle(Hosting.SignInSettings settings, TimeProvider time)
{
    /// <summary>How many (name, address) pairs are remembered at most; the stalest are forgotten first.</summary>
    internal const int Capacity = 10_000;

    private readonly ConcurrentDictionary<(string Name, string Address), Entry> _entries = new();

    /// <summary>Until when <paramref name="userName"/> is paused for <paramref name="address"/>, or null.</summary>
    public DateTimeOffset? PausedUntil(string userName, string? address)
    {
        var now = time.GetUtcNow();
        return _entries.TryGetValue(Key(userName, address), out var entry) && entry.PausedUntil is { } until && until > now ? until : null;
    }

    /// <summary>Counts a failure; returns until when the pair is now paused, or null.</summary>
    public DateTimeOffset? RecordFailure(string userName, string? address)
    {
        var now = time.GetUtcNow();
        var entry = _entries.AddOrUpdate(Key(userName, address),
            _ => Next(null, now),
            (_, previous) => Next(previous, now));
        if (_entries.Count > Capacity)
        {
            Trim(now);
        }

        return entry.PausedUntil;
    }

    /// <summary>A correct password from this address: its count starts afresh.</summary>
    public void RecordSuccess(string userName, string? address) => _entries.TryRemove(Key(userName, address), out _);

    private Entry Next(Entry? previous, DateTimeOffset now)
    {
        // A pause that has run out, or failures older than a pause, start the count afresh.
        var stale = previous is null || previous.PausedUntil is { } until && until <= now || now - previous.LastFailure > settings.LockoutDuration;
        var failures = (stale ? 0 : previous!.Failures) + 1;
        return new Entry(failures, now, failures >= settings.MaxFailedAttempts ? now + settings.LockoutDuration : null);
    }

    private void Trim(DateTimeOffset now)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.PausedUntil is { } until ? until <= now : now - entry.LastFailure > settings.LockoutDuration)
            {
                _entries.TryRemove(key, out _);
            }
        }

        var excess = _entries.Count - Capacity;
        if (excess > 0)
        {
            foreach (var key in _entries.OrderBy(e => e.Value.LastFailure).Take(excess).Select(e => e.Key).ToList())
            {
                _entries.TryRemove(key, out _);
            }
        }
    }

    private static (string, string) Key(string userName, string? address) => (userName.ToUpperInvariant(), address ?? "?");

    private sealed record Entry(int Failures, DateTimeOffset LastFailure, DateTimeOffset? PausedUntil);
}
