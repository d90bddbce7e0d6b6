using System.Runtime.InteropServices;
using System.Text;

namespace OpsRobot.Integrations.Nagios;

/// <summary>
/// Writes command lines into Nagios's external command file, a named pipe. A plain open of a pipe for writing
/// blocks until someone reads it, forever when Nagios is down, so the pipe is opened non-blocking: no reader
/// is a clear "Nagios is not running" at once, and a full pipe is retried until
/// <see cref="NagiosOptions.CommandTimeout"/>. Each line is written with one <c>write(2)</c> of at most
/// <see cref="MaxLineBytes"/> bytes, which the kernel keeps whole even when other writers share the pipe.
/// </summary>
public sealed partial class NagiosCommandPipe(TimeProvider time)
{
    /// <summary>PIPE_BUF on Linux: writes up to this size are never interleaved with another writer's.</summary>
    public const int MaxLineBytes = 4096;

    private const int OWronly = 0x1;
    private const int ONonblock = 0x800;
    private const int ONoctty = 0x100;
    private const int OCloexec = 0x80000;
    private const int SeekCur = 1;
    private const int EIntr = 4;
    private const int ENoent = 2;
    private const int ENxio = 6;
    private const int EAgain = 11;
    private const int EAccess = 13;
    private const int EPipe = 32;
    private const int ESpipe = 29;
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(20);

    /// <summary>Writes <paramref name="line"/> (one command, newline added here) to the pipe at <paramref name="path"/>.</summary>
    /// <exception cref="NagiosException">Nagios does not read the pipe, it is missing or not writable, or stayed full past the timeout.</exception>
    public async Task WriteAsync(string path, string line, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(line);
        if (line.Contains('\n', StringComparison.Ordinal) || line.Contains('\r', StringComparison.Ordinal))
        {
            throw new ArgumentException("A command line has no line breaks of its own.", nameof(line));
        }

        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        if (bytes.Length > MaxLineBytes)
        {
            throw new NagiosException($"The command is {bytes.Length} bytes long; one command may be at most {MaxLineBytes}. Shorten the comment.");
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new NagiosException("Writing Nagios's command file is supported on Linux only.");
        }

        var fd = Open(path, OWronly | ONonblock | ONoctty | OCloexec);
        if (fd < 0)
        {
            throw Marshal.GetLastPInvokeError() switch
            {
                ENxio => new NagiosException($"Nagios is not running: nothing reads its command file {path}. Start Nagios, then try again."),
                ENoent => new NagiosException($"Nagios's command file {path} does not exist. Is Nagios running with check_external_commands=1, and does OpsRobot:Nagios:CommandFile match command_file in nagios.cfg?"),
                EAccess => new NagiosException($"OpsRobot may not write Nagios's command file {path}. Add OpsRobot's user to the group that owns it (Debian: nagios) and make sure the folder lets that group in."),
                var errno => new NagiosException($"Cannot open Nagios's command file {path} (errno {errno})."),
            };
        }

        try
        {
            // A regular file opens fine and swallows the command; Nagios only ever reads a pipe, where seeking fails.
            if (Seek(fd, 0, SeekCur) >= 0 || Marshal.GetLastPInvokeError() != ESpipe)
            {
                throw new NagiosException($"{path} is not a named pipe, so Nagios would never read it. Point OpsRobot:Nagios:CommandFile at command_file from nagios.cfg.");
            }

            var deadline = time.GetTimestamp() + (long)(timeout.TotalSeconds * time.TimestampFrequency);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var written = Write(fd, bytes, bytes.Length);
                if (written == bytes.Length)
                {
                    return;
                }

                var errno = written < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (written < 0 && errno == EIntr)
                {
                    continue;
                }

                if (written < 0 && errno == EPipe)
                {
                    throw new NagiosException("Nagios stopped reading its command file while the command was sent. Check that Nagios is running, then try again.");
                }

                if (written >= 0 || errno != EAgain)
                {
                    throw new NagiosException($"Writing Nagios's command file {path} failed (errno {errno}).");
                }

                if (time.GetTimestamp() >= deadline)
                {
                    throw new NagiosException($"Nagios's command file {path} stayed full for {timeout.TotalSeconds:0.#} s: Nagios is not reading commands (hung or overloaded). Nothing was sent.");
                }

                await Task.Delay(RetryEvery, time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long Seek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, byte[] buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
