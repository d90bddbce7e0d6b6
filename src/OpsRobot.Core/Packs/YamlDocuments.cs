using System.Text.Json.Nodes;

namespace OpsRobot.Core.Packs;

/// <summary>Reads a YAML file (size- and depth-limited, like pack files) into JSON, for import documents.</summary>
public static class YamlDocuments
{
    /// <summary>The file's top-level mapping as JSON, or the error with its position.</summary>
    public static (JsonObject? Document, string? Error) Load(string file)
    {
        var (root, error) = PackYaml.LoadMapping(file, "document");
        return error is not null ? (null, error.ToString()) : (YamlFields.ToJson(root!) as JsonObject, null);
    }
}
