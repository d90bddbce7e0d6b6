using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Cli.Client;

/// <summary>
/// What the command line authenticates with: <c>OPSROBOT_API_KEY</c> (an API key or token) when set, else the
/// token <c>opsrobot login</c> saved for the server, in <c>$OPSROBOT_CREDENTIALS</c> or
/// <c>~/.config/opsrobot/credentials.json</c> (mode 0600, one entry per server address).
/// </summary>
internal static class Credentials
{
    public const string KeyVariable = "OPSROBOT_API_KEY";
    public const string FileVariable = "OPSROBOT_CREDENTIALS";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string FilePath
    {
        get
        {
            if (Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } explicitPath)
            {
                return Path.GetFullPath(explicitPath);
            }

            var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(config, "opsrobot", "credentials.json");
        }
    }

    /// <summary>The secret to send to <paramref name="server"/>, and where it came from; null when there is none.</summary>
    public static (string Secret, string From)? Find(Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } key)
        {
            return (key.Trim(), KeyVariable);
        }

        var entry = Read()[Key(server)];
        return entry?["token"]?.GetValue<string>() is { Length: > 0 } token ? (token, FilePath) : null;
    }

    public static void Save(Uri server, string token, string user, DateTimeOffset? expiresAt, long? tokenId)
    {
        ArgumentNullException.ThrowIfNull(server);
        var all = Read();
        all[Key(server)] = new JsonObject
        {
            ["token"] = token,
            ["user"] = user,
            ["expiresAt"] = expiresAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["tokenId"] = tokenId,
        };
        Write(all);
    }

    /// <summary>Forgets the token for <paramref name="server"/>; returns its id, if it had one, so it can be revoked.</summary>
    public static (bool Removed, long? TokenId) Remove(Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var all = Read();
        var key = Key(server);
        if (all[key] is not JsonObject entry)
        {
            return (false, null);
        }

        var id = entry["tokenId"]?.GetValue<long?>();
        all.Remove(key);
        Write(all);
        return (true, id);
    }

    private static string Key(Uri server) => server.GetLeftPart(UriPartial.Path).TrimEnd('/').ToLowerInvariant();

    private static JsonObject Read()
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? [];
        }
        catch (JsonException ex)
        {
            throw new ClientUsageException($"{path} is not valid JSON ({ex.Message}); remove it and run opsrobot login again.");
        }
    }

    private static void Write(JsonObject all)
    {
        var path = FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created private: the token is as good as the password until it expires.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(all.ToJsonString(Indented));
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
