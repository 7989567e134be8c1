<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Atelier::MainWindow</name>
    <message>
        <source>About Atelier</source>
        <translation>关于 Atelier</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;Queue Stable Diffusion prompts and render them on every GPU at once.&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</source>
        <translation>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;排队 Stable Diffusion 提示词，并在所有 GPU 上同时生成图像。&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</translation>
    </message>
    <message>
        <source>Atelier</source>
        <translation>Atelier</translation>
    </message>
    <message>
        <source>&amp;Prompt</source>
        <translation>提示词(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Negative prompt</source>
        <translation>反向提示词(&amp;N)</translation>
    </message>
    <message>
        <source>Describe the image, e.g. a lighthouse at dusk, oil painting</source>
        <translation>描述图像，例如：黄昏时的灯塔，油画</translation>
    </message>
    <message>
        <source>What to avoid, e.g. blurry, low quality</source>
        <translation>需要避免的内容，例如：模糊，低质量</translation>
    </message>
    <message>
        <source>&amp;Add to queue</source>
        <translation>加入队列(&amp;A)</translation>
    </message>
    <message>
        <source>Queue this prompt (Ctrl+Enter)</source>
        <translation>将此提示词加入队列 (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>移除(&amp;R)</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;About Atelier</source>
        <translation>关于 Atelier(&amp;A)</translation>
    </message>
    <message numerus="yes">
        <source>%n prompt(s) queued</source>
        <translation>
            <numerusform>队列中有 %n 个提示词</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Imported %n prompt(s)</source>
        <translation>
            <numerusform>已导入 %n 个提示词</numerusform>
        </translation>
    </message>
    <message>
        <source>Import problems</source>
        <translation>导入问题</translation>
    </message>
    <message numerus="yes">
        <source>%n line(s) could not be imported; the rest were queued.</source>
        <translation>
            <numerusform>%n 行无法导入；其余已加入队列。</numerusform>
        </translation>
    </message>
    <message>
        <source>Import prompts</source>
        <translation>导入提示词</translation>
    </message>
    <message>
        <source>Prompt files (*.txt *.csv *.json *.jsonl);;All files (*)</source>
        <translation>提示词文件 (*.txt *.csv *.json *.jsonl);;所有文件 (*)</translation>
    </message>
    <message>
        <source>&amp;Import prompts…</source>
        <translation>导入提示词(&amp;I)…</translation>
    </message>
    <message>
        <source>Choose at least one device to render on.</source>
        <translation>请至少选择一个用于生成的设备。</translation>
    </message>
    <message>
        <source>Cannot create the output folder %1</source>
        <translation>无法创建输出文件夹 %1</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <source>%1/%2, %3 it/s</source>
        <translation>%1/%2，%3 it/s</translation>
    </message>
    <message>
        <source>Cannot start rendering: %1</source>
        <translation>无法开始生成：%1</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation>选择模型</translation>
    </message>
    <message>
        <source>Stable Diffusion 1.x checkpoints (*.safetensors)</source>
        <translation>Stable Diffusion 1.x 检查点 (*.safetensors)</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>&amp;Gallery</source>
        <translation>图库(&amp;G)</translation>
    </message>
    <message>
        <source>Render settings</source>
        <translation>生成设置</translation>
    </message>
    <message>
        <source>&amp;Steps</source>
        <translation>步数(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;CFG scale</source>
        <translation>CFG 系数(&amp;C)</translation>
    </message>
    <message>
        <source>Si&amp;ze</source>
        <translation>尺寸(&amp;Z)</translation>
    </message>
    <message>
        <source>Sa&amp;mpler</source>
        <translation>采样器(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Devices</source>
        <translation>设备(&amp;D)</translation>
    </message>
    <message>
        <source>M&amp;odel</source>
        <translation>模型(&amp;O)</translation>
    </message>
    <message>
        <source>O&amp;utput</source>
        <translation>输出(&amp;U)</translation>
    </message>
    <message>
        <source>Built-in test model (abstract noise)</source>
        <translation>内置测试模型（抽象噪声）</translation>
    </message>
    <message>
        <source>A Stable Diffusion 1.x .safetensors checkpoint or diffusers folder</source>
        <translation>Stable Diffusion 1.x 的 .safetensors 检查点或 diffusers 文件夹</translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation>选择输出文件夹</translation>
    </message>
    <message>
        <source>Defaults for prompts that do not set their own</source>
        <translation>未自行设置参数的提示词所用的默认值</translation>
    </message>
    <message>
        <source>Model default</source>
        <translation>模型默认</translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <source>Stop rendering; unfinished prompts go back to the queue</source>
        <translation>停止生成；未完成的提示词将回到队列</translation>
    </message>
    <message numerus="yes">
        <source>Rendering: %n image(s) made; waiting for prompts</source>
        <translation>
            <numerusform>正在生成：已完成 %n 张图像；等待新的提示词</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Rendering: %n image(s) made, %1 queued, %2 failed</source>
        <translation>
            <numerusform>正在生成：已完成 %n 张图像，队列中 %1 个，失败 %2 个</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Render</source>
        <translation>生成(&amp;R)</translation>
    </message>
    <message>
        <source>Render the queue on the checked devices</source>
        <translation>在选中的设备上生成队列中的图像</translation>
    </message>
    <message>
        <source>Rendering stopped</source>
        <translation>生成已停止</translation>
    </message>
    <message>
        <source>No device could go on rendering; the prompts that were not finished are back in the queue. Check the model and the devices, then press Render again.</source>
        <translation>没有设备能继续生成；未完成的提示词已回到队列。请检查模型和设备，然后再次点击“生成”。</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>The queue could not be saved: %1</source>
        <translation>无法保存队列：%1</translation>
    </message>
</context>
</TS>
