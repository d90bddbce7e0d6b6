using System.Runtime.InteropServices;
using System.Text;

namespace OpsRobot.Runners.Processes;

/// <summary>
/// The few libc calls .NET does not expose: signalling a whole process group, <c>access(2)</c> (which answers
/// "may this user execute it" the way the kernel will), <c>realpath(3)</c> to see through symbolic links, and a
/// plain open/read/close for the thousands of tiny <c>/proc</c> files a process-table scan reads.
/// </summary>
internal static partial class NativeMethods
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>SIGCONT on Linux x86-64 and arm64 (the platforms .NET supports here).</summary>
    public const int SigCont = 18;

    private const int ReadOk = 4;
    private const int ExecuteOk = 1;
    private const int PathMax = 4096;
    private const int OpenReadOnly = 0;

    /// <summary>O_CLOEXEC on Linux x86-64 and arm64: a process started meanwhile must not inherit the descriptor.</summary>
    private const int OpenCloseOnExec = 0x80000;

    private const int Interrupted = 4; // EINTR

    /// <summary>Sends <paramref name="signal"/> to every process of group <paramref name="processGroupId"/>.</summary>
    /// <returns>True when at least one process got it.</returns>
    public static bool SignalGroup(int processGroupId, int signal) => processGroupId > 1 && Kill(-processGroupId, signal) == 0;

    /// <summary>Sends <paramref name="signal"/> to one process.</summary>
    public static bool SignalProcess(int processId, int signal) => processId > 1 && Kill(processId, signal) == 0;

    /// <summary>
    /// Reads the start of a small file (a <c>/proc</c> entry) into <paramref name="buffer"/> with open, one read and
    /// close: no handle object, no allocation. <paramref name="path"/> ends with a NUL byte. Returns the bytes read,
    /// or -1 when the file cannot be opened or read (a process that is gone).
    /// </summary>
    public static int ReadSmallFile(ReadOnlySpan<byte> path, Span<byte> buffer)
    {
        int fd;
        do
        {
            fd = Open(ref MemoryMarshal.GetReference(path), OpenReadOnly | OpenCloseOnExec);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == Interrupted);

        if (fd < 0)
        {
            return -1;
        }

        try
        {
            nint read;
            do
            {
                read = ReadNative(fd, ref MemoryMarshal.GetReference(buffer), buffer.Length);
            }
            while (read < 0 && Marshal.GetLastPInvokeError() == Interrupted);

            return (int)read;
        }
        finally
        {
            _ = Close(fd);
        }
    }

    public static bool CanExecute(string path) => Access(path, ExecuteOk) == 0;

    public static bool CanRead(string path) => Access(path, ReadOk) == 0;

    /// <summary>The canonical absolute path with every symbolic link resolved, or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var buffer = new byte[PathMax + 1];
        if (RealPathNative(path, buffer) == 0)
        {
            return null;
        }

        var length = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, length < 0 ? buffer.Length : length);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int Open(ref byte path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadNative(int fd, ref byte buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, [Out] byte[] resolved);
}
