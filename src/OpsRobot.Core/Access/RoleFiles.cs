using OpsRobot.Core.Packs;
using OpsRobot.Core.Users;
using YamlDotNet.RepresentationModel;

namespace OpsRobot.Core.Access;

/// <summary>
/// Roles as configuration as code: one YAML file per role in the roles folder, read at start and on reload.
/// <code>
/// name: deployer
/// description: Deploys the booking applications
/// grants:
///   - permission: action.execute
///     resources: [deploy.*]
///   - permission: alias.run
///     resources: [deploy.*]
///   - permission: execution.view
/// users: [alice, bob]        # optional: given this role in addition to the roles in the store
/// </code>
/// A file with any error is refused whole, with its line and column; the other files still load.
/// </summary>
public static class RoleFiles
{
    public static (IReadOnlyList<Role> Roles, IReadOnlyList<PackError> Errors) Load(string directory)
    {
        var roles = new List<Role>();
        var errors = new List<PackError>();
        if (!Directory.Exists(directory))
        {
            return (roles, errors);
        }

        foreach (var file in Directory.EnumerateFiles(directory).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            LoadInto(file, roles, errors);
        }

        return (roles, errors);
    }

    /// <summary>One role file, checked the same way as the files of the roles folder.</summary>
    public static (IReadOnlyList<Role> Roles, IReadOnlyList<PackError> Errors) LoadFile(string file)
    {
        var roles = new List<Role>();
        var errors = new List<PackError>();
        if (!File.Exists(file))
        {
            errors.Add(new PackError(file, 0, 0, "no such file"));
            return (roles, errors);
        }

        LoadInto(file, roles, errors);
        return (roles, errors);
    }

    private static void LoadInto(string file, List<Role> roles, List<PackError> errors)
    {
        {
            var (root, error) = PackYaml.LoadMapping(file, "role");
            if (error is not null)
            {
                errors.Add(error);
                return;
            }

            var before = errors.Count;
            var role = Read(new YamlFields(file, root!, errors));
            if (role is null || errors.Count > before)
            {
                return;
            }

            if (BuiltInRoles.IsBuiltIn(role.Name))
            {
                errors.Add(new PackError(file, 0, 0, $"'{role.Name}' is a built-in role; choose another name"));
            }
            else if (roles.FirstOrDefault(r => string.Equals(r.Name, role.Name, StringComparison.OrdinalIgnoreCase)) is { } twin)
            {
                errors.Add(new PackError(file, 0, 0, $"role '{role.Name}' is defined in {twin.SourceFile} already"));
            }
            else
            {
                roles.Add(role);
            }
        }
    }

    private static Role? Read(YamlFields f)
    {
        var name = f.String("name", required: true);
        if (name is not null && !BuiltInRoles.IsValidName(name))
        {
            f.Error(f.Node("name"), $"'{name}' is not a valid role name: {BuiltInRoles.NameRule}");
        }

        var grants = new List<Grant>();
        if (f.SequenceField("grants") is { } sequence)
        {
            foreach (var item in sequence.Children)
            {
                if (item is not YamlMappingNode mapping)
                {
                    f.Error(item, "each grant is a mapping with 'permission' and optionally 'resources' and 'read_only'");
                    continue;
                }

                var g = new YamlFields(f.File, mapping, f.Errors);
                var permission = g.String("permission", required: true);
                var resources = new List<string>();
                if (g.Node("resources") is YamlScalarNode single && single.Value is { } one)
                {
                    resources.Add(one);
                }
                else if (g.SequenceField("resources") is { } list)
                {
                    resources.AddRange(list.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? string.Empty));
                }
                else if (!g.Has("resources"))
                {
                    resources.Add("*");
                }

                if (permission is null)
                {
                    continue;
                }

                var grant = new Grant(permission, resources) { ReadOnlyOnly = g.Bool("read_only") ?? false };
                if (BuiltInRoles.CheckGrant(grant) is { } problem)
                {
                    g.Error(mapping, problem);
                    continue;
                }

                grants.Add(grant);
            }
        }
        else if (!f.Has("grants"))
        {
            f.Error(null, "missing required field 'grants'");
        }

        var users = new List<string>();
        if (f.SequenceField("users") is { } userList)
        {
            foreach (var item in userList.Children)
            {
                if (item is YamlScalarNode { Value: { } user } && UserNames.IsValid(user))
                {
                    users.Add(user);
                }
                else
                {
                    f.Error(item, $"each entry of 'users' must be a user name: {UserNames.Rule}");
                }
            }
        }

        return name is null ? null : new Role(name, f.String("description") ?? string.Empty, grants, RoleOrigin.File) { FileUsers = users, SourceFile = f.File };
    }
}
