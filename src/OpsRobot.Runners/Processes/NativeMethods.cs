using System.Runtime.InteropServices;
using System.Text;

namespace OpsRobot.Runners.Processes;

/// <summary>
/// The few libc calls .NET does not expose: signalling a whole process group, <c>access(2)</c> (which answers
/// "may this user execute it" the way the kernel will), and <c>realpath(3)</c> to see through symbolic links.
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

    /// <summary>Sends <paramref name="signal"/> to every process of group <paramref name="processGroupId"/>.</summary>
    /// <returns>True when at least one process got it.</returns>
    public static bool SignalGroup(int processGroupId, int signal) => processGroupId > 1 && Kill(-processGroupId, signal) == 0;

    /// <summary>Sends <paramref name="signal"/> to one process.</summary>
    public static bool SignalProcess(int processId, int signal) => processId > 1 && Kill(processId, signal) == 0;

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

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, [Out] byte[] resolved);
}
