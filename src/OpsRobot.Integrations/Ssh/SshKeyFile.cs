using System.Text;

namespace OpsRobot.Integrations.Ssh;

/// <summary>
/// A private key written for OpenSSH's <c>-i</c> for as long as one run lasts: a file of mode 0600 in a folder of
/// mode 0700, both created new (never reused, never followed through a link), on <c>/dev/shm</c> when the machine
/// has it so the clear key never reaches a disk. Disposing overwrites the file and removes both.
/// </summary>
public sealed class SshKeyFile : IDisposable
{
    private readonly string _folder;

    private SshKeyFile(string folder, string path)
    {
        _folder = folder;
        Path = path;
    }

    /// <summary>The key file's full path.</summary>
    public string Path { get; }

    /// <summary>
    /// Checks that <paramref name="keyText"/> looks like a private key (without ever echoing it) and writes it.
    /// Returns null and a sentence when it does not.
    /// </summary>
    public static (SshKeyFile? File, string? Error) Create(string keyText, string? directory)
    {
        ArgumentNullException.ThrowIfNull(keyText);
        var text = keyText.Replace("\r\n", "\n", StringComparison.Ordinal).Trim();
        if (!text.StartsWith("-----BEGIN ", StringComparison.Ordinal) || !text.Contains("PRIVATE KEY-----", StringComparison.Ordinal)
            || !text.EndsWith("-----", StringComparison.Ordinal))
        {
            return (null, "does not hold a private key (expected the text of an OpenSSH or PEM private key, from -----BEGIN to -----END)");
        }

        if (OperatingSystem.IsWindows())
        {
            return (null, "cannot be written safely here: private key files need Unix file modes");
        }

        var root = directory ?? (Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath());
        var folder = System.IO.Path.Combine(root, $"opsrobot-ssh-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = System.IO.Path.Combine(folder, "id");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using (var stream = new FileStream(path, options))
        {
            // OpenSSH refuses a key without its final newline ("invalid format").
            stream.Write(Encoding.ASCII.GetBytes(text + "\n"));
        }

        return (new SshKeyFile(folder, path), null);
    }

    public void Dispose()
    {
        try
        {
            if (File.Exists(Path))
            {
                var length = new FileInfo(Path).Length;
                using (var stream = new FileStream(Path, FileMode.Open, FileAccess.Write))
                {
                    stream.Write(new byte[length]);
                    stream.Flush(flushToDisk: true);
                }

                File.Delete(Path);
            }

            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; the folder is private to OpsRobot's user and lives in memory where /dev/shm exists.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
