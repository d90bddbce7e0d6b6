using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OpsRobot.Storage.Sqlite;

/// <summary>
/// Gives SQLite's own sleeps millisecond resolution. The bundled SQLite (SQLitePCLRaw 2.0.6's e_sqlite3, SQLite 3.35.5)
/// is built without <c>HAVE_USLEEP</c>, so its unix file system layer sleeps whole seconds: a reader that has to retry
/// opening its snapshot of the write-ahead log while a writer or a checkpoint moves it (<c>walTryBeginRead</c>, which
/// asks for a microsecond at first) slept a full second per retry, and <c>sqlite3_sleep(1)</c> took a second.
/// <see cref="SqliteBusyWait"/> covers the waits for locks; this covers the sleeps SQLite does by itself.
/// <para>
/// It registers, once per process and before the first connection opens, a copy of SQLite's default file system
/// layer ("unix") under the name <see cref="VfsName"/> as the new default, identical but for its sleep, which sleeps
/// the requested time rounded up to the millisecond. Connections opened before it keep the old layer; nothing else
/// changes (same files, same locks, so other processes using plain SQLite on the same database are unaffected).
/// </para>
/// </summary>
internal static unsafe partial class SqliteSleep
{
    /// <summary>The name of the file system layer registered.</summary>
    public const string VfsName = "opsrobot-unix";

    private static readonly Lazy<bool> Registered = new(Register, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Registers the layer if not done yet. Returns false when it cannot be (not the bundled e_sqlite3, or a default
    /// layer of a shape this does not know); SQLite then sleeps as it was built to.
    /// </summary>
    public static bool EnsureRegistered() => Registered.Value;

    /// <summary>What the layer sleeps for a request of <paramref name="microseconds"/>: whole milliseconds, at least the request.</summary>
    internal static int MillisecondsFor(int microseconds) => microseconds <= 0 ? 0 : (int)((microseconds + 999L) / 1000);

    private static bool Register()
    {
        try
        {
            var current = sqlite3_vfs_find(null);
            if (current is null)
            {
                return false;
            }

            if (Marshal.PtrToStringUTF8(current->zName) == VfsName)
            {
                return true;
            }

            // Only the layouts SQLite has published (versions 1 to 3); a later one may have members this copy would drop.
            var size = current->iVersion switch
            {
                1 => (int)Marshal.OffsetOf<Vfs>(nameof(Vfs.xCurrentTimeInt64)),
                2 => (int)Marshal.OffsetOf<Vfs>(nameof(Vfs.xSetSystemCall)),
                3 => sizeof(Vfs),
                _ => 0,
            };
            if (size == 0)
            {
                return false;
            }

            // Kept for the life of the process, as SQLite requires of a registered layer.
            var copy = (Vfs*)NativeMemory.AllocZeroed((nuint)sizeof(Vfs));
            Buffer.MemoryCopy(current, copy, sizeof(Vfs), size);
            copy->pNext = null;
            copy->zName = Marshal.StringToCoTaskMemUTF8(VfsName);
            copy->xSleep = &Sleep;
            if (sqlite3_vfs_register(copy, 1) != 0)
            {
                Marshal.FreeCoTaskMem(copy->zName);
                NativeMemory.Free(copy);
                return false;
            }

            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // SQLite's xSleep: sleep at least the microseconds asked, return how many were slept.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Sleep(Vfs* vfs, int microseconds)
    {
        var milliseconds = MillisecondsFor(microseconds);
        if (milliseconds > 0)
        {
            Thread.Sleep(milliseconds);
        }

        return (int)Math.Min(int.MaxValue, milliseconds * 1000L);
    }

    [LibraryImport("e_sqlite3")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial Vfs* sqlite3_vfs_find(byte* name);

    [LibraryImport("e_sqlite3")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int sqlite3_vfs_register(Vfs* vfs, int makeDefault);

    /// <summary>SQLite's <c>sqlite3_vfs</c>, version 3 (sqlite3.h); only the members this class touches are typed.</summary>
    [StructLayout(LayoutKind.Sequential)]
#pragma warning disable SA1307, SA1310, IDE1006 // SQLite's own member names, to be read against sqlite3.h
    private struct Vfs
    {
        public int iVersion;
        public int szOsFile;
        public int mxPathname;
        public Vfs* pNext;
        public nint zName;
        public nint pAppData;
        public nint xOpen;
        public nint xDelete;
        public nint xAccess;
        public nint xFullPathname;
        public nint xDlOpen;
        public nint xDlError;
        public nint xDlSym;
        public nint xDlClose;
        public nint xRandomness;
        public delegate* unmanaged[Cdecl]<Vfs*, int, int> xSleep;
        public nint xCurrentTime;
        public nint xGetLastError;
        public nint xCurrentTimeInt64;
        public nint xSetSystemCall;
        public nint xGetSystemCall;
        public nint xNextSystemCall;
    }
#pragma warning restore SA1307, SA1310, IDE1006
}
