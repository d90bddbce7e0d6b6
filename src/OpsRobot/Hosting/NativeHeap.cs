using System.Runtime.InteropServices;

namespace OpsRobot.Hosting;

/// <summary>
/// Tunes glibc's heap for a process that writes SQLite all day. SQLite allocates and frees its page buffers through
/// malloc at every commit; with glibc's default (a trim threshold that tracks the largest block freed), each commit
/// hands the top of the heap back to the kernel and takes it again, and every hand-back flushes the TLB of every core
/// (measured: a quarter of the shell's system time under a burst). Keeping up to 64 MiB of freed heap avoids that.
/// Does nothing where the C library is not glibc.
/// </summary>
internal static partial class NativeHeap
{
    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int TopPad = -2; // M_TOP_PAD
    private const int KeepBytes = 64 * 1024 * 1024;

    public static void Tune()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = MallOpt(TrimThreshold, KeepBytes);
            _ = MallOpt(TopPad, 16 * 1024 * 1024);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Another C library (musl): its allocator is left as it is.
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
