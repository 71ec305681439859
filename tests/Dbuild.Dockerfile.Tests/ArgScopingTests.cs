namespace Dbuild.Dockerfile.Tests;

public sealed class ArgScopingTests
{
    private static DockerfileModel Model(string text, Dictionary<string, string>? buildArgs = null, string? target = null) =>
        DockerfileModel.Create(DockerfileParser.Parse(text), new BuildOptions
        {
            BuildArgs = buildArgs ?? [],
            Target = target,
            TargetPlatform = "linux/arm64/v8",
            BuildPlatform = "linux/amd64",
        });

    private static EvaluatedInstruction Last(DockerfileModel model, Stage? stage = null) => model.Evaluate(stage ?? model.Target)[^1];

    [Fact]
    public void GlobalArg_UsedInFrom()
    {
        DockerfileModel model = Model("ARG VERSION=3.20\nFROM alpine:${VERSION}\n");
        Assert.Equal("alpine:3.20", model.Target.BaseName);
    }

    [Fact]
    public void GlobalArg_BuildArgOverridesDefault()
    {
        DockerfileModel model = Model("ARG VERSION=3.20\nFROM alpine:${VERSION}\n", new() { ["VERSION"] = "3.21" });
        Assert.Equal("alpine:3.21", model.Target.BaseName);
    }

    [Fact]
    public void GlobalArg_NotVisibleInStageUntilRedeclared()
    {
        DockerfileModel model = Model("ARG V=1\nFROM scratch\nLABEL a=$V\nARG V\nLABEL b=$V\n");
        IReadOnlyList<EvaluatedInstruction> steps = model.Evaluate(model.Target);
        Assert.Equal("", ((LabelInstruction)steps[0].Instruction).Pairs[0].Value);
        Assert.Equal(["V"], steps[0].UndefinedVariables);
        Assert.Equal("1", ((LabelInstruction)steps[2].Instruction).Pairs[0].Value);
    }

    [Fact]
    public void StageArg_DefaultAndBuildArg()
    {
        DockerfileModel model = Model("FROM scratch\nARG A=def B=def\nWORKDIR /$A/$B\n", new() { ["B"] = "given" });
        Assert.Equal("/def/given", ((WorkdirInstruction)Last(model).Instruction).Path);
        Assert.Equal("given", Last(model).BuildArgs["B"]);
    }

    [Fact]
    public void EnvOverridesArg()
    {
        DockerfileModel model = Model("FROM scratch\nARG X=arg\nENV X=env\nWORKDIR /$X\n");
        Assert.Equal("/env", ((WorkdirInstruction)Last(model).Instruction).Path);
    }

    [Fact]
    public void Env_AllSubstitutionsSeePreviousValues()
    {
        DockerfileModel model = Model("FROM scratch\nENV a=1\nENV a=2 b=$a\n");
        EvaluatedInstruction step = Last(model);
        Assert.Equal(("2", "1"), (step.Environment["a"], step.Environment["b"]));
    }

    [Fact]
    public void PlatformArgs_AutomaticInFromAndAfterDeclaration()
    {
        DockerfileModel model = Model("FROM --platform=$BUILDPLATFORM scratch AS b\nARG TARGETARCH TARGETVARIANT BUILDOS\nWORKDIR /$TARGETARCH/$TARGETVARIANT/$BUILDOS\n");
        Assert.Equal("linux/amd64", model.Target.Platform);
        Assert.Equal("/arm64/v8/linux", ((WorkdirInstruction)Last(model).Instruction).Path);
    }

    [Fact]
    public void ProxyArgs_PassedToRunWithoutDeclarationAndNeverUnused()
    {
        DockerfileModel model = Model("FROM scratch\nRUN true\n", new() { ["HTTP_PROXY"] = "http://p:3128" });
        Assert.Equal("http://p:3128", Last(model).BuildArgs["HTTP_PROXY"]);
        Assert.Empty(model.UnusedBuildArgs);
    }

    [Fact]
    public void UnusedBuildArg_Warned()
    {
        DockerfileModel model = Model("ARG USED\nFROM scratch\nARG ALSO\n", new() { ["USED"] = "1", ["ALSO"] = "2", ["NOPE"] = "3" });
        Assert.Equal(["NOPE"], model.UnusedBuildArgs);
        Assert.Equal("[Warning] One or more build-args [NOPE] were not consumed", model.UnusedBuildArgsWarning);
    }

    [Fact]
    public void UnusedBuildArg_DeclaredOnlyInSkippedStage_Warned()
    {
        DockerfileModel model = Model("FROM scratch AS other\nARG X\nFROM scratch AS final\nRUN true\n", new() { ["X"] = "1" });
        Assert.Equal(["final"], model.RequiredStages.Select(s => s.Name));
        Assert.Equal(["X"], model.UnusedBuildArgs);
    }

    [Fact]
    public void Target_SelectsStageAndDependencies()
    {
        DockerfileModel model = Model("FROM scratch AS a\nFROM scratch AS b\nCOPY --from=a / /\nFROM b AS c\nFROM scratch AS d\n", target: "c");
        Assert.Equal("c", model.Target.Name);
        Assert.Equal(["a", "b", "c"], model.RequiredStages.Select(s => s.Name));
        Assert.Equal("b", model.Target.BaseStage?.Name);
    }

    [Fact]
    public void Target_Missing_ThrowsWithSuggestion()
    {
        var ex = Assert.Throws<ArgumentException>(() => Model("FROM scratch AS build\n", target: "buidl"));
        Assert.Equal("target stage \"buidl\" could not be found (did you mean build?)", ex.Message);
    }

    [Fact]
    public void InstructionBeforeFrom_Throws()
    {
        var ex = Assert.Throws<DockerfileSyntaxException>(() => Model("RUN x\nFROM scratch\n"));
        Assert.Equal("no build stage in current context", ex.Reason);
    }

    [Fact]
    public void RunMount_ExpandedWithArgs()
    {
        DockerfileModel model = Model("FROM scratch\nARG CACHE=/c\nRUN --mount=type=cache,target=$CACHE true\n");
        var run = (RunInstruction)Last(model).Instruction;
        Assert.Equal("/c", run.Mounts[0].Target);
    }

    [Fact]
    public void ExpandingInstructions_ExpandButRunDoesNot()
    {
        DockerfileModel model = Model("FROM scratch\nENV D=/data P=80\nCOPY a $D/\nEXPOSE $P\nVOLUME $D\nUSER $P\nRUN echo $D\n");
        IReadOnlyList<EvaluatedInstruction> steps = model.Evaluate(model.Target);
        Assert.Equal("/data/", ((CopyInstruction)steps[1].Instruction).Destination);
        Assert.Equal(["80"], ((ExposeInstruction)steps[2].Instruction).Ports);
        Assert.Equal(["/data"], ((VolumeInstruction)steps[3].Instruction).Volumes);
        Assert.Equal("80", ((UserInstruction)steps[4].Instruction).User);
        Assert.Equal(["echo $D"], ((RunInstruction)steps[5].Instruction).Command.Arguments);
    }

    [Fact]
    public void CopyHeredoc_ExpandedUnlessMarkerQuoted()
    {
        DockerfileModel model = Model("FROM scratch\nARG NAME=world\nCOPY <<A <<\"B\" /dst/\nhello $NAME \"q\"\nA\nraw $NAME\nB\n");
        var copy = (CopyInstruction)Last(model).Instruction;
        Assert.Equal("hello world \"q\"\n", copy.Heredocs[0].Content);
        Assert.Equal("raw $NAME\n", copy.Heredocs[1].Content);
    }
}
