using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.Actions;
using OpsRobot.Integrations.Ssh;

namespace OpsRobot.Integrations.Deploy;

/// <summary>Registration of the <c>deploy</c> runner and its back-ends.</summary>
public static class DeployServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="DeployRunner"/>, the Ansible back-end and <see cref="DeployOptions"/> (bound by the host from
    /// <c>OpsRobot:Deploy</c>). Deployments are recorded in the store's <c>IDeploymentStore</c>; SSH keys, host
    /// checks and known hosts are the <c>ssh</c> runner's (<see cref="SshServiceCollectionExtensions.AddSsh"/>).
    /// </summary>
    public static IServiceCollection AddDeploy(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSsh();
        services.AddOptions<DeployOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDeployBackend, AnsibleBackend>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, DeployRunner>());
        return services;
    }
}
