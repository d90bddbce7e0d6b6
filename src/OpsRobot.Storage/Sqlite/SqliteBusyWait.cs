using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace OpsRobot.Storage.Sqlite;

/// <summary>
/// SQLite's wait for a lock another connection holds, done with short sleeps. The bundled SQLite (SQLitePCLRaw 2.0.6's
/// e_sqlite3, SQLite 3.35.5) is built without <c>HAVE_USLEEP</c>, so its own busy handler (<c>PRAGMA busy_timeout</c>)
/// can only sleep whole seconds: a connection that met another's write lock for a millisecond waited a full second
/// (<c>sqlite3_sleep(1)</c> returns 1000 on this build). This handler sleeps 1 ms, backing off to 10 ms, and gives up
/// once the busy timeout has passed by the clock, as SQLite's would. SQLitePCLRaw 2.0.6 does not wrap
/// <c>sqlite3_busy_handler</c>, so it is called here directly, on the connection's own handle; where that cannot be
/// done (another SQLite library), SQLite's own busy timeout is used instead.
/// </summary>
internal static partial class SqliteBusyWait
{
    private static readonly int[] Delays = [1, 1, 2, 2, 5, 5];
    private const int MaxDelay = 10;

    [ThreadStatic]
    private static long t_waitStarted;

    /// <summary>
    /// Installs the handler on a connection (replacing any busy timeout it had). Returns false when the SQLite library
    /// in use has no <c>sqlite3_busy_handler</c> to call; the connection then has SQLite's own busy timeout.
    /// </summary>
    public static unsafe bool Install(SqliteConnection connection, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var handle = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        try
        {
            if (sqlite3_busy_handler(handle.DangerousGetHandle(), &OnBusy, (nint)Math.Max(0L, (long)timeout.TotalMilliseconds)) == 0)
            {
                return true;
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not the bundled e_sqlite3: fall through to SQLite's own wait.
        }

        SQLitePCL.raw.sqlite3_busy_timeout(handle, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        return false;
    }

    /// <summary>How long the handler sleeps before try <paramref name="count"/> (0 is the first retry).</summary>
    internal static int DelayFor(int count) => count < Delays.Length ? Delays[count] : MaxDelay;

    // SQLite calls this from inside the statement that met the lock, count 0 first: 1 to try again, 0 to give up
    // (the statement fails with SQLITE_BUSY). The wait is measured by the clock from the first call.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnBusy(nint timeoutMs, int count)
    {
        if (count <= 0)
        {
            t_waitStarted = Stopwatch.GetTimestamp();
        }

        if (Stopwatch.GetElapsedTime(t_waitStarted).TotalMilliseconds >= timeoutMs)
        {
            return 0;
        }

        Thread.Sleep(DelayFor(count));
        return 1;
    }

    [LibraryImport("e_sqlite3")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe partial int sqlite3_busy_handler(nint db, delegate* unmanaged[Cdecl]<nint, int, int> handler, nint argument);
}
