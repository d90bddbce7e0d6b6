using System.Security.Cryptography;
using System.Text;

namespace OpsRobot.Core.Datastore;

/// <summary>Encrypts secrets at rest. The context binds a ciphertext to its key, so it cannot be moved to another key and read there.</summary>
public interface ISecretProtector
{
    string Protect(string clearText, string context);

    /// <exception cref="DatastoreException">The ciphertext was not made with this key, or was altered.</exception>
    string Unprotect(string cipherText, string context);
}

/// <summary>
/// AES-256-GCM with a random 96-bit nonce per value and the key's scope, owner and name as associated data. The
/// stored form is <c>v1:</c> followed by base64 of nonce, tag and ciphertext. The key is 32 random bytes kept in a
/// file readable by the owner only (mode 0600), created on first use.
/// </summary>
public sealed class AesGcmSecretProtector : ISecretProtector, IDisposable
{
    private const string Prefix = "v1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const string KeyHeader = "opsrobot-datastore-key-v1 ";

    // The key, not an AesGcm: an AesGcm instance must not be used by two threads at once (concurrent webhooks
    // decrypting their secret did exactly that), and one per operation costs little next to a database read.
    private readonly byte[] _key;

    public AesGcmSecretProtector(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != 32)
        {
            throw new ArgumentException("The datastore key must be 32 bytes (AES-256).", nameof(key));
        }

        _key = (byte[])key.Clone();
    }

    /// <summary>Reads the key file, or creates it (mode 0600, 32 random bytes) when it does not exist.</summary>
    /// <exception cref="DatastoreException">The file exists but is not a datastore key, or cannot be read or written.</exception>
    public static AesGcmSecretProtector FromKeyFile(string path, out bool created)
    {
        ArgumentNullException.ThrowIfNull(path);
        created = false;
        try
        {
            if (!File.Exists(path))
            {
                var key = RandomNumberGenerator.GetBytes(32);
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                try
                {
                    using (var stream = new FileStream(path, options))
                    using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
                    {
                        writer.Write(KeyHeader + Convert.ToBase64String(key) + "\n");
                    }

                    created = true;
                    return new AesGcmSecretProtector(key);
                }
                catch (IOException) when (File.Exists(path))
                {
                    // Another process created it first: use theirs.
                }
            }

            var text = File.ReadAllText(path).Trim();
            if (!text.StartsWith(KeyHeader, StringComparison.Ordinal))
            {
                throw new DatastoreException($"{path} is not an OpsRobot datastore key file. Restore it from your backup; without it the stored secrets cannot be read.");
            }

            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(text[KeyHeader.Length..]);
            }
            catch (FormatException ex)
            {
                throw new DatastoreException($"The datastore key file {path} is damaged. Restore it from your backup.", ex);
            }

            if (bytes.Length != 32)
            {
                throw new DatastoreException($"The datastore key file {path} is damaged (the key is not 32 bytes). Restore it from your backup.");
            }

            return new AesGcmSecretProtector(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DatastoreException($"Cannot read or create the datastore key file {path}: {ex.Message}", ex);
        }
    }

    /// <summary>Whether the key file can be read by others than its owner (it should not).</summary>
    public static bool IsTooOpen(string path) =>
        !OperatingSystem.IsWindows() && File.Exists(path)
        && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != UnixFileMode.None;

    public string Protect(string clearText, string context)
    {
        ArgumentNullException.ThrowIfNull(clearText);
        ArgumentNullException.ThrowIfNull(context);
        var plain = Encoding.UTF8.GetBytes(clearText);
        var output = new byte[NonceSize + TagSize + plain.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(context));
        return Prefix + Convert.ToBase64String(output);
    }

    public string Unprotect(string cipherText, string context)
    {
        ArgumentNullException.ThrowIfNull(cipherText);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            if (!cipherText.StartsWith(Prefix, StringComparison.Ordinal))
            {
                throw new FormatException("unknown format");
            }

            var data = Convert.FromBase64String(cipherText[Prefix.Length..]);
            if (data.Length < NonceSize + TagSize)
            {
                throw new FormatException("too short");
            }

            var plain = new byte[data.Length - NonceSize - TagSize];
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(data.AsSpan(0, NonceSize), data.AsSpan(NonceSize + TagSize), data.AsSpan(NonceSize, TagSize), plain, Encoding.UTF8.GetBytes(context));
            return Encoding.UTF8.GetString(plain);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw new DatastoreException("A stored secret cannot be decrypted: it was encrypted with another key file, or altered. Restore the key file from your backup.", ex);
        }
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
