using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace OpsRobot.Storage.Sqlite;

/// <summary>
/// SQLite's wait for a lock another connection holds, done with short sleeps. The bundled SQLite (SQLitePCLRaw 2.0.6's
/// e_sqlite3, SQLite 3.35.5) is built without <c>HAVE_USLEEP</c>, so its own busy handler (<c>PRAGMA busy_timeout</c>)
/// can only sleep whole seconds: a connection that met another's write lock for a millisecond waited a full second
/// (<c>sqlite3_sleep(1)</c> returns 1000 on this build). This handler sleeps 1 ms, backing off to 10 ms, and gives up
/// once the busy timeout has passed, as SQLite's would. SQLitePCLRaw 2.0.6 does not wrap
/// <c>sqlite3_busy_handler</c>, so it is called here directly, on the connection's own handle.
/// </summary>
internal static partial class SqliteBusyWait
{
    private static readonly int[] Delays = [1, 1, 2, 2, 5, 5];
    private const int MaxDelay = 10;

    /// <summary>Installs the handler on a connection (replacing any busy timeout it had).</summary>
    /// <exception cref="InvalidOperationException">SQLite refused it.</exception>
    public static unsafe void Install(SqliteConnection connection, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var handle = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        var rc = sqlite3_busy_handler(handle.DangerousGetHandle(), &OnBusy, (nint)Math.Max(0L, (long)timeout.TotalMilliseconds));
        if (rc != 0)
        {
            throw new InvalidOperationException($"SQLite refused the busy handler (error {rc}).");
        }
    }

    /// <summary>How long the handler sleeps before try <paramref name="count"/> (0 is the first retry).</summary>
    internal static int DelayFor(int count) => count < Delays.Length ? Delays[count] : MaxDelay;

    /// <summary>How long the handler has slept before try <paramref name="count"/>.</summary>
    internal static long SleptBefore(int count)
    {
        long total = 0;
        for (var i = 0; i < Math.Min(count, Delays.Length); i++)
        {
            total += Delays[i];
        }

        return total + ((long)Math.Max(0, count - Delays.Length) * MaxDelay);
    }

    // SQLite calls this from inside the statement that met the lock: 1 to try again, 0 to give up (SQLITE_BUSY).
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnBusy(nint timeoutMs, int count)
    {
        if (count < 0 || SleptBefore(count) >= timeoutMs)
        {
            return 0;
        }

        Thread.Sleep(DelayFor(count));
        return 1;
    }

    [LibraryImport("e_sqlite3")]
    private static unsafe partial int sqlite3_busy_handler(nint db, delegate* unmanaged[Cdecl]<nint, int, int> handler, nint argument);
}
