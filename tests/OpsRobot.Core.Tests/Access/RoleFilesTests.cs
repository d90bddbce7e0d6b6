using OpsRobot.Core.Access;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Access;

public sealed class RoleFilesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Load_ReadsGrantsUsersAndReadOnly()
    {
        _dir.Write("deployer.yaml", """
            name: deployer
            description: Deploys
            grants:
              - permission: action.execute
                resources: [deploy.*, nagios.ack]
              - permission: execution.view
              - permission: alias.run
                resources: "*"
                read_only: true
            users: [alice, bob]
            """);

        var (roles, errors) = RoleFiles.Load(_dir.Path);

        errors.ShouldBeEmpty();
        var role = roles.ShouldHaveSingleItem();
        role.Name.ShouldBe("deployer");
        role.Origin.ShouldBe(RoleOrigin.File);
        role.Grants.Count.ShouldBe(3);
        role.Grants[0].Resources.ShouldBe(["deploy.*", "nagios.ack"]);
        role.Grants[1].Resources.ShouldBe(["*"]);
        role.Grants[2].ReadOnlyOnly.ShouldBeTrue();
        role.FileUsers.ShouldBe(["alice", "bob"]);
    }

    [Theory]
    [InlineData("name: Admins\ngrants: []\n", "not a valid role name")]
    [InlineData("name: admin\ngrants: []\n", "built-in role")]
    [InlineData("name: x\n", "missing required field 'grants'")]
    [InlineData("name: x\ngrants:\n  - permission: action.destroy\n", "unknown permission 'action.destroy'")]
    [InlineData("name: x\ngrants:\n  - action.execute\n", "each grant is a mapping")]
    [InlineData("name: x\ngrants: []\nusers: [\"bad name\"]\n", "each entry of 'users'")]
    [InlineData("name: [x\n", "")]
    public void Load_RefusesABrokenFileWhole_NamingWhere(string text, string problem)
    {
        var file = _dir.Write("broken.yaml", text);
        _dir.Write("good.yaml", "name: good\ngrants:\n  - permission: execution.view\n");

        var (roles, errors) = RoleFiles.Load(_dir.Path);

        roles.ShouldHaveSingleItem().Name.ShouldBe("good");
        var error = errors.ShouldHaveSingleItem();
        error.File.ShouldBe(file);
        error.Message.ShouldContain(problem);
    }

    [Fact]
    public void Load_TheSameRoleInTwoFiles_KeepsTheFirst()
    {
        _dir.Write("a.yaml", "name: twin\ngrants: []\n");
        _dir.Write("b.yaml", "name: twin\ngrants: []\n");

        var (roles, errors) = RoleFiles.Load(_dir.Path);

        roles.ShouldHaveSingleItem().SourceFile.ShouldNotBeNull().ShouldEndWith("a.yaml");
        errors.ShouldHaveSingleItem().Message.ShouldContain("defined in");
    }
}
