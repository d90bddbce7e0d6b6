using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Rooms;
using OpsRobot.Core.Status;
using OpsRobot.Core.Users;
using OpsRobot.Storage.Sqlite;

namespace OpsRobot.Storage;

/// <summary>Registration of the store.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>Adds the embedded SQLite store behind the core's store interfaces.</summary>
    public static IServiceCollection AddOpsRobotSqlite(this IServiceCollection services, Action<SqliteOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Configure(configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SqliteDatabase>();
        services.TryAddSingleton<IUserStore, SqliteUserStore>();
        services.TryAddSingleton<IRoomStore, SqliteRoomStore>();
        services.TryAddSingleton<IExecutionStore, SqliteExecutionStore>();
        services.TryAddSingleton<Core.Events.IEventStore, SqliteEventStore>();
        services.TryAddSingleton<Core.Datastore.IKeyValueStore, SqliteKeyValueStore>();
        services.TryAddSingleton<Core.Access.IAccessStore, SqliteAccessStore>();
        services.TryAddSingleton<Core.Audit.IAuditStore, SqliteAuditStore>();
        services.TryAddSingleton<Core.Workflows.Runtime.IWorkflowStore, SqliteWorkflowStore>();
        services.TryAddSingleton<Core.Alerts.IAlertStore, SqliteAlertStore>();
        services.TryAddSingleton<Core.Deployments.IDeploymentStore, SqliteDeploymentStore>();
        services.TryAddSingleton<Core.Cmdb.IHostStore, SqliteHostStore>();
        services.TryAddSingleton<Core.Inquiries.IInquiryStore, SqliteInquiryStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStatusSource, SqliteStatusSource>());
        return services;
    }
}
