using OpsRobot.Core.Access;

namespace OpsRobot.Hosting;

/// <summary>Reads the role files into access control, at start and on every pack reload; errors are logged with their position.</summary>
internal static partial class RoleFileLoader
{
    public static int Reload(AccessService access, OpsRobotPaths paths, ILogger logger)
    {
        var (roles, errors) = RoleFiles.Load(paths.RolesDir);
        foreach (var error in errors)
        {
            LogRoleError(logger, error.ToString());
        }

        access.SetFileRoles(roles);
        return errors.Count;
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Error, Message = "Role file refused: {Error}")]
    private static partial void LogRoleError(ILogger logger, string error);
}
