using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Cmdb;
using OpsRobot.Core.Commands;
using OpsRobot.Integrations.Secrets;

namespace OpsRobot.Integrations.Cmdb;

/// <summary>Registration of the CMDB.</summary>
public static class CmdbServiceCollectionExtensions
{
    /// <summary>
    /// Adds the CMDB: <see cref="CmdbService"/>, its chat commands (<c>host</c>, <c>hosts</c>, <c>whoowns</c>),
    /// <see cref="IHostInventory"/> served by the built-in store or, with <c>OpsRobot:Cmdb:Source = http</c>, by
    /// <see cref="HttpHostInventory"/>, and <see cref="IHostDirectory"/> over it, which turns on parameters scoped
    /// as <c>host</c>. The built-in store (<see cref="IHostStore"/>) comes from the storage project.
    /// </summary>
    public static IServiceCollection AddCmdb(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<CmdbOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(HttpHostInventory.ClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan) // the inventory applies its own timeout
            .RemoveAllLoggers();
        services.TryAddSingleton<ISecretSource, DatastoreSecretSource>();
        services.TryAddSingleton<HttpHostInventory>();
        services.TryAddSingleton<IHostInventory>(sp => sp.GetRequiredService<IOptions<CmdbOptions>>().Value.Source == CmdbSource.Http
            ? sp.GetRequiredService<HttpHostInventory>()
            : new StoreHostInventory(sp.GetRequiredService<IHostStore>()));
        services.TryAddSingleton<IHostDirectory, InventoryHostDirectory>();
        services.TryAddSingleton<CmdbService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, HostCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, HostsCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, WhoOwnsCommand>());
        return services;
    }
}
