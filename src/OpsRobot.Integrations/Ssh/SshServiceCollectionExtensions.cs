using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.Actions;
using OpsRobot.Integrations.Secrets;

namespace OpsRobot.Integrations.Ssh;

/// <summary>Registration of the <c>ssh</c> runner and the <c>ssh-trust</c> runner behind <c>ssh.trust</c>.</summary>
public static class SshServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="SshRunner"/> and <see cref="SshTrustRunner"/>, <see cref="SshOptions"/>, keys from datastore
    /// secrets and host checks through <see cref="Core.Access.AccessService"/> (each replaceable: TryAdd). The host
    /// binds <c>OpsRobot:Ssh</c> and resolves <see cref="SshOptions.KnownHostsFile"/> against the data folder.
    /// </summary>
    public static IServiceCollection AddSsh(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<SshOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ISecretSource, DatastoreSecretSource>();
        services.TryAddSingleton<IHostAccessPolicy>(sp => new AccessServiceHostPolicy(sp.GetService<Core.Access.AccessService>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, SshRunner>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, SshTrustRunner>());
        return services;
    }
}
